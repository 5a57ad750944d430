package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// ErrNotLocked is wrapped when an incoming message is popped or deleted without a current lock (never
// peeked, or the lock ran out).
var ErrNotLocked = errors.New("not locked")

// InMessage is a message in the in-queue (spec ip-api §7): received from a channel, waiting for the
// client's peek → pop → delete.
type InMessage struct {
	ID                 int64
	MessageID          string
	ConversationID     string
	ProcessIdentifier  string
	SenderIdentifier   string // primary form, as the filters compare it (910077473)
	ReceiverIdentifier string
	ServiceIdentifier  string
	MessageType        string
	// SBD is the received StandardBusinessDocument JSON.
	SBD []byte
	// HasASiC tells whether a (decrypted) ASiC-E container is stored; ASiCSize is its size.
	HasASiC  bool
	ASiCSize int64
	// LockTimeout is when the peek lock runs out; zero when the message is not locked.
	LockTimeout time.Time
	Created     time.Time
	LastUpdated time.Time
	// Expiry is the message's expectedResponseDateTime (or the default time to live).
	Expiry time.Time

	asicFile string
}

// Locked reports whether m holds a lock that has not run out at now.
func (m InMessage) Locked(now time.Time) bool {
	return !m.LockTimeout.IsZero() && m.LockTimeout.After(now)
}

// StatusKey is the outbox key of the status SBD (MOTTATT, LEVERT) the integration point sends back for
// the incoming message messageID. The SBD inside keeps the real messageId; the key only has to be unique,
// since both statuses answer the same message.
func StatusKey(messageID string, status wire.ReceiptStatus) string {
	return messageID + "/status/" + string(status)
}

const inColumns = `id, message_id, conversation_id, process_identifier, sender_identifier, receiver_identifier,
	service_identifier, message_type, sbd, asic_file, asic_size, lock_timeout, created, last_updated, expiry`

func scanIn(row scanner) (InMessage, error) {
	var m InMessage
	var asic, lock sql.NullString
	var created, updated, expiry string
	err := row.Scan(&m.ID, &m.MessageID, &m.ConversationID, &m.ProcessIdentifier, &m.SenderIdentifier, &m.ReceiverIdentifier,
		&m.ServiceIdentifier, &m.MessageType, &m.SBD, &asic, &m.ASiCSize, &lock, &created, &updated, &expiry)
	m.asicFile, m.HasASiC = asic.String, asic.Valid && asic.String != ""
	if lock.Valid {
		m.LockTimeout = parseTS(lock.String)
	}
	m.Created, m.LastUpdated, m.Expiry = parseTS(created), parseTS(updated), parseTS(expiry)
	return m, err
}

// inTable maps the properties of NextMoveInMessage (filters of spec ip-api §7.1 and sort properties) to
// columns. "process" is the filter name, "processIdentifier" the entity property; both are the
// ConversationId scope's identifier.
var inTable = table{
	columns: map[string]string{"id": "m.id", "messageId": "m.message_id", "conversationId": "m.conversation_id",
		"process": "m.process_identifier", "processIdentifier": "m.process_identifier",
		"receiverIdentifier": "m.receiver_identifier", "senderIdentifier": "m.sender_identifier",
		"serviceIdentifier": "m.service_identifier", "messageType": "m.message_type",
		"lastUpdated": "m.last_updated", "created": "m.created", "lockTimeout": "m.lock_timeout"},
}

// incomingDir is where the ASiC-E containers of incoming messages live.
func (s *Store) incomingDir() string { return filepath.Join(s.dir, "incoming") }

func (s *Store) removeIncomingFile(name string) {
	if name != "" {
		_ = os.Remove(filepath.Join(s.incomingDir(), filepath.Base(name)))
	}
}

// StoreIncoming puts a received message on the in-queue: in one transaction its INCOMING conversation c
// (direction and times are set here) with the statuses OPPRETTET and INNKOMMENDE_MOTTATT, the message m
// (its SBD and filter fields; times are set here, Expiry from c), and, when reply is not nil, the status
// SBD sent back (an internal outbox row handed to delivery, see EnqueueInternal). asic, when not nil, is
// the decrypted ASiC-E container kept for pop. A messageId that is already in the in-queue or has an
// INCOMING conversation is ErrDuplicate, and nothing is stored. The events are the registered statuses.
func (s *Store) StoreIncoming(ctx context.Context, m InMessage, asic []byte, c Conversation, reply *OutMessage, statusQueue func(string) bool) ([]StatusEvent, error) {
	var file string
	if asic != nil {
		// A message downloaded again after a crash is found before its container is written.
		if err := s.tx(ctx, func(tx *sql.Tx) error { return incomingDuplicate(ctx, tx, m.MessageID) }); err != nil {
			return nil, fmt.Errorf("store incoming: %w", err)
		}
		if err := os.MkdirAll(s.incomingDir(), 0o755); err != nil {
			return nil, fmt.Errorf("store incoming %s: %w", m.MessageID, err)
		}
		file = uuid.NewString() + ".asic"
		// Complete and on disk before the transaction that names it commits; a file a crash leaves
		// unnamed is removed at the next Open.
		if err := writeDurable(filepath.Join(s.incomingDir(), file), asic); err != nil {
			s.removeIncomingFile(file)
			return nil, fmt.Errorf("store incoming %s: %w", m.MessageID, err)
		}
	}
	now := s.now()
	var events []StatusEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := incomingDuplicate(ctx, tx, m.MessageID); err != nil {
			return err
		}
		c.Direction, c.LastUpdate, c.MessageID = Incoming, now, m.MessageID
		id, err := insertConversation(ctx, tx, c)
		if err != nil {
			return err
		}
		c.ID = id
		for _, st := range []wire.ReceiptStatus{wire.StatusOpprettet, wire.StatusInnkommendeMottatt} {
			ev, err := s.registerOn(ctx, tx, c, StatusChange{Status: st, At: now}, statusQueue)
			if err != nil {
				return err
			}
			if ev != nil {
				events = append(events, *ev)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO in_messages (message_id, conversation_id, process_identifier, sender_identifier,
			receiver_identifier, service_identifier, message_type, sbd, asic_file, asic_size, created, last_updated, expiry)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.MessageID, m.ConversationID, m.ProcessIdentifier, m.SenderIdentifier, m.ReceiverIdentifier, m.ServiceIdentifier,
			m.MessageType, m.SBD, nullable(file), len(asic), ts(now), ts(now), ts(c.Expiry)); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("incoming message %s: %w", m.MessageID, ErrDuplicate)
			}
			return err
		}
		if reply != nil {
			return insertInternal(ctx, tx, *reply, now)
		}
		return nil
	})
	if err != nil {
		s.removeIncomingFile(file)
		return nil, fmt.Errorf("store incoming: %w", err)
	}
	return events, nil
}

// incomingDuplicate fails with ErrDuplicate when messageID is in the in-queue or has an INCOMING
// conversation (a message received before, perhaps already delivered to the client).
func incomingDuplicate(ctx context.Context, tx *sql.Tx, messageID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM in_messages WHERE message_id = ?)
		+ (SELECT COUNT(*) FROM conversations WHERE message_id = ? AND direction = ?)`, messageID, messageID, Incoming).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("incoming message %s: %w", messageID, ErrDuplicate)
	}
	return nil
}

// RegisterExpiredIncoming records a message that arrived after its expectedResponseDateTime: an INCOMING
// conversation c with OPPRETTET and LEVETID_UTLOPT (with description), and nothing on the in-queue. A
// messageId received before is ErrDuplicate.
func (s *Store) RegisterExpiredIncoming(ctx context.Context, c Conversation, description string, statusQueue func(string) bool) ([]StatusEvent, error) {
	now := s.now()
	var events []StatusEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := incomingDuplicate(ctx, tx, c.MessageID); err != nil {
			return err
		}
		c.Direction, c.LastUpdate = Incoming, now
		id, err := insertConversation(ctx, tx, c)
		if err != nil {
			return err
		}
		c.ID = id
		for _, ch := range []StatusChange{{Status: wire.StatusOpprettet, At: now},
			{Status: wire.StatusLevetidUtlopt, Description: description, At: now}} {
			ev, err := s.registerOn(ctx, tx, c, ch, statusQueue)
			if err != nil {
				return err
			}
			if ev != nil {
				events = append(events, *ev)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("register expired incoming: %w", err)
	}
	return events, nil
}

// Peek locks the first message (by arrival) matching f that is not locked, until now + lockFor, and
// returns it; ok is false when there is none. Choosing and locking is one statement, so concurrent peeks
// never get the same message. A lock that has run out counts as no lock (UnlockExpired clears them).
func (s *Store) Peek(ctx context.Context, f Filter, lockFor time.Duration) (m InMessage, ok bool, err error) {
	where, args, err := inTable.where(f)
	if err != nil {
		return m, false, err
	}
	now := s.now()
	free := "(m.lock_timeout IS NULL OR m.lock_timeout <= ?)"
	if where == "" {
		where = " WHERE " + free
	} else {
		where += " AND " + free
	}
	args = append([]any{ts(now.Add(lockFor)), ts(now)}, append(args, ts(now))...)
	m, err = scanIn(s.db.QueryRowContext(ctx, `UPDATE in_messages SET lock_timeout = ?, last_updated = ?
		WHERE id = (SELECT m.id FROM in_messages m`+where+` ORDER BY m.created, m.id LIMIT 1)
		RETURNING `+inColumns, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("peek incoming: %w", err)
	}
	return m, true, nil
}

// IncomingMessage returns the incoming message messageID (ErrNotFound when there is none).
func (s *Store) IncomingMessage(ctx context.Context, messageID string) (InMessage, error) {
	m, err := scanIn(s.rdb.QueryRowContext(ctx, `SELECT `+inColumns+` FROM in_messages WHERE message_id = ?`, messageID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("incoming message %s: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("incoming message %s: %w", messageID, err)
	}
	return m, nil
}

// Pop returns the incoming message messageID for download: ErrNotFound when there is none, ErrNotLocked
// when it is not locked. It neither unlocks nor removes it.
func (s *Store) Pop(ctx context.Context, messageID string) (InMessage, error) {
	m, err := s.IncomingMessage(ctx, messageID)
	if err != nil {
		return m, err
	}
	if !m.Locked(s.now()) {
		return m, fmt.Errorf("incoming message %s: %w", messageID, ErrNotLocked)
	}
	return m, nil
}

// OpenASiC opens the stored ASiC-E container of m (ErrNotFound wrapped when it has none or it is gone).
func (s *Store) OpenASiC(m InMessage) (io.ReadCloser, error) {
	if !m.HasASiC {
		return nil, fmt.Errorf("asic of incoming message %s: %w", m.MessageID, ErrNotFound)
	}
	f, err := os.Open(filepath.Join(s.incomingDir(), filepath.Base(m.asicFile)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("asic of incoming message %s: %w", m.MessageID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("asic of incoming message %s: %w", m.MessageID, err)
	}
	return f, nil
}

// DeleteIncoming acknowledges a locked incoming message (DELETE /api/messages/in/{messageId}): in one
// transaction it registers INNKOMMENDE_LEVERT on the INCOMING conversation, removes the message, and —
// when reply returns a message for it — puts that status SBD on the outbox as an internal row handed to
// delivery. It returns the removed message (with its SBD) and the registered statuses; ErrNotFound when
// there is no such message, ErrNotLocked when it is not locked (and then nothing changes).
func (s *Store) DeleteIncoming(ctx context.Context, messageID string, statusQueue func(string) bool,
	reply func(InMessage) (*OutMessage, error)) (InMessage, []StatusEvent, error) {
	var m InMessage
	var events []StatusEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = scanIn(tx.QueryRowContext(ctx, `SELECT `+inColumns+` FROM in_messages WHERE message_id = ?`, messageID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("incoming message %s: %w", messageID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		now := s.now()
		if !m.Locked(now) {
			return fmt.Errorf("incoming message %s: %w", messageID, ErrNotLocked)
		}
		if events, err = s.registerIncoming(ctx, tx, messageID, StatusChange{Status: wire.StatusInnkommendeLevert, At: now}, statusQueue); err != nil {
			return err
		}
		if _, _, err := deleteIncomingRow(ctx, tx, messageID); err != nil {
			return err
		}
		if reply == nil {
			return nil
		}
		out, err := reply(m)
		if err != nil || out == nil {
			return err
		}
		return insertInternal(ctx, tx, *out, now)
	})
	if err != nil {
		return m, nil, fmt.Errorf("delete incoming: %w", err)
	}
	s.removeIncomingFile(m.asicFile)
	return m, events, nil
}

// DiscardIncoming removes an incoming message whatever its lock, registering ch on its INCOMING
// conversation (when ch.Status is set and the conversation exists), in one transaction: for a message
// whose stored container cannot be read. ErrNotFound when there is no such message.
func (s *Store) DiscardIncoming(ctx context.Context, messageID string, ch StatusChange, statusQueue func(string) bool) ([]StatusEvent, error) {
	var file string
	var events []StatusEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var found bool
		var err error
		if file, found, err = deleteIncomingRow(ctx, tx, messageID); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("incoming message %s: %w", messageID, ErrNotFound)
		}
		if ch.Status == "" {
			return nil
		}
		events, err = s.registerIncoming(ctx, tx, messageID, ch, statusQueue)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("discard incoming: %w", err)
	}
	s.removeIncomingFile(file)
	return events, nil
}

// registerIncoming registers ch on the INCOMING conversation of messageID in tx; a conversation the client
// deleted is no error.
func (s *Store) registerIncoming(ctx context.Context, tx *sql.Tx, messageID string, ch StatusChange, statusQueue func(string) bool) ([]StatusEvent, error) {
	c, err := scanConversation(tx.QueryRowContext(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.message_id = ? AND c.direction = ?`,
		messageID, Incoming))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ev, err := s.registerOn(ctx, tx, c, ch, statusQueue)
	if err != nil || ev == nil {
		return nil, err
	}
	return []StatusEvent{*ev}, nil
}

// deleteIncomingRow removes messageID from the in-queue in tx and returns the name of its container file
// ("" when it had none) and whether there was such a message; the caller removes the file after commit.
func deleteIncomingRow(ctx context.Context, tx *sql.Tx, messageID string) (file string, found bool, err error) {
	var f sql.NullString
	err = tx.QueryRowContext(ctx, `DELETE FROM in_messages WHERE message_id = ? RETURNING asic_file`, messageID).Scan(&f)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return f.String, true, nil
}

// UnlockExpired clears every peek lock that has run out, making those messages peekable again (the real
// IP does so every 5 seconds). It returns how many were unlocked.
func (s *Store) UnlockExpired(ctx context.Context) (int64, error) {
	now := ts(s.now())
	res, err := s.db.ExecContext(ctx, `UPDATE in_messages SET lock_timeout = NULL, last_updated = ?
		WHERE lock_timeout IS NOT NULL AND lock_timeout <= ?`, now, now)
	if err != nil {
		return 0, fmt.Errorf("unlock expired: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// IncomingPage returns a page of the in-queue (locked and unlocked messages; default order: arrival) and
// the total count.
func (s *Store) IncomingPage(ctx context.Context, f Filter, p PageRequest) ([]InMessage, int64, error) {
	where, args, err := inTable.where(f)
	if err != nil {
		return nil, 0, err
	}
	order, err := inTable.orderBy(p, "m.created ASC, m.id ASC")
	if err != nil {
		return nil, 0, err
	}
	var total int64
	var out []InMessage
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM in_messages m`+where, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+inColumns+` FROM in_messages m`+where+order+limit(p), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanIn(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list incoming: %w", err)
	}
	return out, total, nil
}

// EnqueueInternal puts a message the integration point sends by itself (a status SBD keyed by
// StatusKey) on the outbox and hands it to delivery at once. It never appears in the client's outbox
// listing and has no conversation of its own: delivery registers nothing for it. Enqueueing a key that is
// queued already is a no-op.
func (s *Store) EnqueueInternal(ctx context.Context, m OutMessage) error {
	now := s.now()
	if err := s.tx(ctx, func(tx *sql.Tx) error { return insertInternal(ctx, tx, m, now) }); err != nil {
		return fmt.Errorf("enqueue internal %s: %w", m.MessageID, err)
	}
	return nil
}

// insertInternal adds the internal outbox row m and its delivery queue entry in tx.
func insertInternal(ctx context.Context, tx *sql.Tx, m OutMessage, now time.Time) error {
	if m.MessageID == "" || len(m.SBD) == 0 {
		return errors.New("internal message needs a key and an SBD")
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO out_messages (message_id, conversation_id, process_identifier, sender_identifier,
		receiver_identifier, service_identifier, sbd, created, last_updated, internal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		m.MessageID, m.ConversationID, m.ProcessIdentifier, m.SenderIdentifier, m.ReceiverIdentifier, m.ServiceIdentifier,
		m.SBD, ts(now), ts(now)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO delivery_queue (message_id, next_attempt_at, enqueued_at) VALUES (?, ?, ?)`,
		m.MessageID, ts(now), ts(now))
	return err
}
