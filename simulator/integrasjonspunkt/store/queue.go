package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Job is a message claimed for a delivery attempt.
type Job struct {
	MessageID string
	// Attempt counts attempts including this one (1 for the first).
	Attempt int
	// LastError is what the previous attempt failed with.
	LastError string
}

// Enqueue hands messageID to delivery. Sending a message that is already queued is a no-op (the real IP
// would enqueue it twice).
func (s *Store) Enqueue(ctx context.Context, messageID string) error {
	now := ts(s.now())
	res, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO delivery_queue (message_id, next_attempt_at, enqueued_at)
		SELECT message_id, ?, ? FROM out_messages WHERE message_id = ?`, now, now, messageID)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", messageID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Outgoing(ctx, messageID); err != nil {
			return err
		}
	}
	return nil
}

// Claim takes up to n due jobs and leases them for lease: until it ends no other worker gets them, and a
// worker that crashed mid-attempt gives its job back when it does.
func (s *Store) Claim(ctx context.Context, n int, lease time.Duration) ([]Job, error) {
	now := s.now()
	// A status message waits while an earlier status message of the same conversation is queued, so that
	// a receiver's MOTTATT always leaves before its LEVERT. Ordinary messages are never held back.
	rows, err := s.db.QueryContext(ctx, `UPDATE delivery_queue SET locked_until = ?, attempts = attempts + 1
		WHERE message_id IN (SELECT q.message_id FROM delivery_queue q JOIN out_messages m ON m.message_id = q.message_id
			WHERE q.next_attempt_at <= ? AND (q.locked_until IS NULL OR q.locked_until < ?)
			AND NOT (m.internal = 1 AND EXISTS (SELECT 1 FROM delivery_queue q2 JOIN out_messages m2 ON m2.message_id = q2.message_id
				WHERE m2.internal = 1 AND m2.conversation_id = m.conversation_id AND q2.rowid < q.rowid))
			ORDER BY q.next_attempt_at LIMIT ?)
		RETURNING message_id, attempts, last_error`, ts(now.Add(lease)), ts(now), ts(now), n)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	defer rows.Close()
	var jobs []Job
	for rows.Next() {
		var j Job
		var last sql.NullString
		if err := rows.Scan(&j.MessageID, &j.Attempt, &last); err != nil {
			return nil, fmt.Errorf("claim jobs: %w", err)
		}
		j.LastError = last.String
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// ReleaseLeases gives back every leased job: the integration point calls it when it starts, since a
// lease it finds then belongs to a process that died mid-attempt (one process owns an SQLite store), and
// waiting for the lease to run out would hold those messages back for minutes. It returns how many.
func (s *Store) ReleaseLeases(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE delivery_queue SET locked_until = NULL WHERE locked_until IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	return res.RowsAffected()
}

// NextDue is when the earliest queued job becomes due (zero when the queue is empty).
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullString
	err := s.rdb.QueryRowContext(ctx, `SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > next_attempt_at
		THEN locked_until ELSE next_attempt_at END) FROM delivery_queue`).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, err
	}
	return parseTS(next.String), nil
}

// Retry schedules another attempt of messageID at next, remembering why this one failed.
func (s *Store) Retry(ctx context.Context, messageID string, next time.Time, cause string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE delivery_queue SET next_attempt_at = ?, locked_until = NULL, last_error = ? WHERE message_id = ?`,
		ts(next), cause, messageID)
	if err != nil {
		return fmt.Errorf("retry %s: %w", messageID, err)
	}
	return nil
}

// Finish ends delivery of messageID: in one transaction it registers ch on the outgoing conversation (when
// ch.Status is set) and removes the message, its files and its queue entry. It is used for SENDT, FEIL and
// LEVETID_UTLOPT alike. The event is nil when no status was registered.
func (s *Store) Finish(ctx context.Context, messageID string, ch StatusChange, statusQueue func(string) bool) (*StatusEvent, error) {
	evs, err := s.FinishWith(ctx, messageID, []StatusChange{ch}, statusQueue)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	return evs[0], nil
}

// FinishWith is Finish with several statuses registered in the same transaction (SENDT and the LEVERT a
// channel knows at once), so that a crash cannot leave a message with the first and not the rest. The
// events are in the order of chs; a change with an empty status registers nothing.
func (s *Store) FinishWith(ctx context.Context, messageID string, chs []StatusChange, statusQueue func(string) bool) ([]*StatusEvent, error) {
	var evs []*StatusEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		evs = evs[:0]
		for _, ch := range chs {
			if ch.Status == "" {
				continue
			}
			c, err := scanConversation(tx.QueryRowContext(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.message_id = ? AND c.direction = ?`,
				messageID, Outgoing))
			switch {
			case errors.Is(err, sql.ErrNoRows): // the client deleted the conversation; deliver all the same
			case err != nil:
				return err
			default:
				ev, err := s.registerOn(ctx, tx, c, ch, statusQueue)
				if err != nil {
					return err
				}
				evs = append(evs, ev)
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM out_messages WHERE message_id = ?`, messageID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("finish %s: %w", messageID, err)
	}
	_ = os.RemoveAll(s.fileDir(messageID))
	return evs, nil
}

// ExpireDue gives every unfinished conversation whose expiry has passed the status LEVETID_UTLOPT (with no
// description, as the real IP's periodic scan does). An outgoing message that was handed to delivery is
// removed with its queue entry (its next attempt would drop it anyway); one that was never sent stays in
// the outbox, as in the real IP, so that sending it later answers TimeToLiveException. An incoming message
// the client has not deleted is removed from the in-queue with its ASiC-E. It handles at most limit
// conversations per call.
func (s *Store) ExpireDue(ctx context.Context, limit int, statusQueue func(string) bool) ([]StatusEvent, error) {
	var events []StatusEvent
	var expired, expiredIn []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.finished = 0 AND c.expiry < ? ORDER BY c.expiry LIMIT ?`,
			ts(s.now()), limit)
		if err != nil {
			return err
		}
		var due []Conversation
		for rows.Next() {
			c, err := scanConversation(rows)
			if err != nil {
				rows.Close()
				return err
			}
			due = append(due, c)
		}
		rows.Close()
		for _, c := range due {
			ev, err := s.registerOn(ctx, tx, c, StatusChange{Status: wire.StatusLevetidUtlopt}, statusQueue)
			if err != nil {
				return err
			}
			if ev != nil {
				events = append(events, *ev)
			}
			if c.Direction == Outgoing {
				res, err := tx.ExecContext(ctx, `DELETE FROM out_messages WHERE message_id = ?
					AND message_id IN (SELECT message_id FROM delivery_queue)`, c.MessageID)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n > 0 {
					expired = append(expired, c.MessageID)
				}
			}
			if c.Direction == Incoming {
				file, _, err := deleteIncomingRow(ctx, tx, c.MessageID)
				if err != nil {
					return err
				}
				if file != "" {
					expiredIn = append(expiredIn, file)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("expire: %w", err)
	}
	for _, id := range expired {
		_ = os.RemoveAll(s.fileDir(id))
	}
	for _, f := range expiredIn {
		s.removeIncomingFile(f)
	}
	return events, nil
}
