package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/efm-harness/efm-harness/simulator/wire"
)

// Directions of a conversation.
const (
	Outgoing = "OUTGOING"
	Incoming = "INCOMING"
)

// Conversation is one message exchange as the integration point tracks it (spec ip-api §6.5).
type Conversation struct {
	ID                      int64
	ConversationID          string
	MessageID               string
	Direction               string
	Sender                  string // full form, 0192:910077473
	SenderIdentifier        string // primary form, 910077473 (the part identifier for on-behalf-of senders)
	Receiver                string
	ReceiverIdentifier      string
	ProcessIdentifier       string
	DocumentIdentifier      string
	MessageReference        string
	MessageTitle            string
	ServiceIdentifier       string
	ExternalSystemReference string
	Expiry                  time.Time
	Finished                bool
	Pollable                bool
	LastUpdate              time.Time
	Statuses                []Status
}

// Status is one registered status of a conversation.
type Status struct {
	ID             int64
	ConvID         int64
	ConversationID string
	MessageID      string
	Status         wire.ReceiptStatus
	Description    string
	RawReceipt     string
	LastUpdate     time.Time
}

// StatusEvent describes a status that was just registered, for webhooks and logs.
type StatusEvent struct {
	Status       Status
	Conversation Conversation
}

const convColumns = `c.id, c.conversation_id, c.message_id, c.direction, c.sender, c.sender_identifier, c.receiver,
	c.receiver_identifier, c.process_identifier, c.document_identifier, c.message_reference, c.message_title,
	c.service_identifier, c.external_system_reference, c.expiry, c.finished, c.pollable, c.last_update`

type scanner interface{ Scan(dest ...any) error }

func scanConversation(row scanner) (Conversation, error) {
	var c Conversation
	var ext sql.NullString
	var expiry, last string
	err := row.Scan(&c.ID, &c.ConversationID, &c.MessageID, &c.Direction, &c.Sender, &c.SenderIdentifier, &c.Receiver,
		&c.ReceiverIdentifier, &c.ProcessIdentifier, &c.DocumentIdentifier, &c.MessageReference, &c.MessageTitle,
		&c.ServiceIdentifier, &ext, &expiry, &c.Finished, &c.Pollable, &last)
	c.ExternalSystemReference, c.Expiry, c.LastUpdate = ext.String, parseTS(expiry), parseTS(last)
	return c, err
}

const statusColumns = `s.id, s.conv_id, c.conversation_id, c.message_id, s.status, s.description, s.raw_receipt, s.last_update`

func scanStatus(row scanner) (Status, error) {
	var st Status
	var desc, raw sql.NullString
	var last string
	err := row.Scan(&st.ID, &st.ConvID, &st.ConversationID, &st.MessageID, &st.Status, &desc, &raw, &last)
	st.Description, st.RawReceipt, st.LastUpdate = desc.String, raw.String, parseTS(last)
	return st, err
}

// insertConversation adds c in tx and returns its id.
func insertConversation(ctx context.Context, tx *sql.Tx, c Conversation) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO conversations (conversation_id, message_id, direction, sender, sender_identifier,
		receiver, receiver_identifier, process_identifier, document_identifier, message_reference, message_title,
		service_identifier, external_system_reference, expiry, finished, pollable, last_update)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ConversationID, c.MessageID, c.Direction, c.Sender, c.SenderIdentifier, c.Receiver, c.ReceiverIdentifier,
		c.ProcessIdentifier, c.DocumentIdentifier, c.MessageReference, c.MessageTitle, c.ServiceIdentifier,
		nullable(c.ExternalSystemReference), ts(c.Expiry), c.Finished, c.Pollable, ts(c.LastUpdate))
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("conversation for message %s: %w", c.MessageID, ErrDuplicate)
	}
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// StatusChange is a status to register.
type StatusChange struct {
	Status      wire.ReceiptStatus
	Description string
	RawReceipt  string
	// At is the status time (now when zero).
	At time.Time
	// Pollable, when set, turns channel status polling on or off.
	Pollable *bool
}

// registerStatus adds a status to conversation convID in tx, at most once per status name, and updates
// finished, pollable and lastUpdate as the real IP does. registered is false for a duplicate.
func (s *Store) registerStatus(ctx context.Context, tx *sql.Tx, convID int64, ch StatusChange) (st Status, registered bool, err error) {
	at := ch.At
	if at.IsZero() {
		at = s.now()
	}
	res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO message_statuses (conv_id, status, description, raw_receipt, last_update)
		VALUES (?, ?, ?, ?, ?)`, convID, string(ch.Status), nullable(ch.Description), nullable(ch.RawReceipt), ts(at))
	if err != nil {
		return st, false, fmt.Errorf("register %s: %w", ch.Status, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return st, false, nil
	}
	id, _ := res.LastInsertId()
	set := []string{"last_update = ?"}
	args := []any{ts(s.now())}
	switch ch.Status {
	case wire.StatusLevert:
		set = append(set, "finished = 1")
	case wire.StatusLest, wire.StatusFeil, wire.StatusLevetidUtlopt, wire.StatusInnkommendeLevert:
		set = append(set, "finished = 1", "pollable = 0")
	}
	if ch.Pollable != nil {
		set = append(set, "pollable = ?")
		args = append(args, *ch.Pollable)
	}
	args = append(args, convID)
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET `+strings.Join(set, ", ")+` WHERE id = ?`, args...); err != nil {
		return st, false, fmt.Errorf("register %s: %w", ch.Status, err)
	}
	st, err = scanStatus(tx.QueryRowContext(ctx, `SELECT `+statusColumns+` FROM message_statuses s JOIN conversations c ON c.id = s.conv_id WHERE s.id = ?`, id))
	if err != nil {
		return st, false, fmt.Errorf("register %s: %w", ch.Status, err)
	}
	return st, true, nil
}

// enqueueStatusIfIncluded puts a status on the status queue when its conversation's channel is included.
func (s *Store) enqueueStatus(ctx context.Context, tx *sql.Tx, st Status) error {
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO status_queue (status_id) VALUES (?)`, st.ID)
	return err
}

// RegisterStatus registers a status on the conversation of messageID in direction. It returns the event
// (nil for a duplicate status) and ErrNotFound when there is no such conversation.
func (s *Store) RegisterStatus(ctx context.Context, messageID, direction string, ch StatusChange, statusQueue func(service string) bool) (*StatusEvent, error) {
	var ev *StatusEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		c, err := scanConversation(tx.QueryRowContext(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.message_id = ? AND c.direction = ?`, messageID, direction))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation of message %s (%s): %w", messageID, direction, ErrNotFound)
		}
		if err != nil {
			return err
		}
		ev, err = s.registerOn(ctx, tx, c, ch, statusQueue)
		return err
	})
	return ev, err
}

// registerOn registers ch on c in tx and returns the event (nil for a duplicate).
func (s *Store) registerOn(ctx context.Context, tx *sql.Tx, c Conversation, ch StatusChange, statusQueue func(string) bool) (*StatusEvent, error) {
	st, ok, err := s.registerStatus(ctx, tx, c.ID, ch)
	if err != nil || !ok {
		return nil, err
	}
	if statusQueue != nil && statusQueue(c.ServiceIdentifier) {
		if err := s.enqueueStatus(ctx, tx, st); err != nil {
			return nil, err
		}
	}
	c, err = scanConversation(tx.QueryRowContext(ctx, `SELECT `+convColumns+` FROM conversations c WHERE c.id = ?`, c.ID))
	if err != nil {
		return nil, err
	}
	return &StatusEvent{Status: st, Conversation: c}, nil
}

// ConversationByID returns the conversation with numeric id (with its statuses).
func (s *Store) ConversationByID(ctx context.Context, id int64) (Conversation, error) {
	return s.oneConversation(ctx, `c.id = ?`, id)
}

// ConversationByMessageID returns the conversation of messageID in direction (with its statuses).
func (s *Store) ConversationByMessageID(ctx context.Context, messageID, direction string) (Conversation, error) {
	return s.oneConversation(ctx, `c.message_id = ? AND c.direction = ?`, messageID, direction)
}

// ConversationByConversationID returns the newest conversation with conversationID in direction over
// service (with its statuses): how a channel whose receipts name only the conversation (DPI) finds the
// message they answer.
func (s *Store) ConversationByConversationID(ctx context.Context, conversationID, direction, service string) (Conversation, error) {
	return s.oneConversation(ctx, `c.conversation_id = ? AND c.direction = ? AND c.service_identifier = ? ORDER BY c.id DESC LIMIT 1`,
		conversationID, direction, service)
}

// oneConversation reads a conversation and its statuses in one transaction, so that they agree.
func (s *Store) oneConversation(ctx context.Context, where string, args ...any) (Conversation, error) {
	var c Conversation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanConversation(tx.QueryRowContext(ctx, `SELECT `+convColumns+` FROM conversations c WHERE `+where, args...))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		list := []Conversation{c}
		err = attachStatuses(ctx, tx, list)
		c = list[0]
		return err
	})
	if err != nil {
		return c, fmt.Errorf("conversation: %w", err)
	}
	return c, nil
}

// querier is what attachStatuses needs of a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func attachStatuses(ctx context.Context, q querier, cs []Conversation) error {
	if len(cs) == 0 {
		return nil
	}
	idx := map[int64]int{}
	ph := make([]string, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		idx[c.ID], ph[i], args[i] = i, "?", c.ID
	}
	rows, err := q.QueryContext(ctx, `SELECT `+statusColumns+` FROM message_statuses s JOIN conversations c ON c.id = s.conv_id
		WHERE s.conv_id IN (`+strings.Join(ph, ",")+`) ORDER BY s.id`, args...)
	if err != nil {
		return fmt.Errorf("statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		st, err := scanStatus(rows)
		if err != nil {
			return fmt.Errorf("statuses: %w", err)
		}
		i := idx[st.ConvID]
		cs[i].Statuses = append(cs[i].Statuses, st)
	}
	return rows.Err()
}

// DeleteConversations deletes conversations (and their statuses) matching where; missing rows are fine.
func (s *Store) DeleteConversationByID(ctx context.Context, id int64) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM conversations WHERE id = ?`, id)
	return err
}

// DeleteConversationsByMessageID deletes every conversation of messageID.
func (s *Store) DeleteConversationsByMessageID(ctx context.Context, messageID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM conversations WHERE message_id = ?`, messageID)
	return err
}

// ConversationExists reports whether any conversation has messageID (the real IP refuses to reuse one).
func (s *Store) ConversationExists(ctx context.Context, messageID string) (bool, error) {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM conversations WHERE message_id = ?`, messageID).Scan(&n)
	return n > 0, err
}
