package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrBadQuery is wrapped by errors about unknown filter or sort properties.
var ErrBadQuery = errors.New("bad query")

// PageRequest is a Spring Data page request: a 0-based page, a size and sort orders.
type PageRequest struct {
	Page int
	Size int
	Sort []SortOrder
}

// SortOrder sorts by an entity property name (as the real IP's API names it).
type SortOrder struct {
	Property string
	Desc     bool
}

// Filter selects rows by entity property: Equals holds exact matches (several values of one property
// match any of them, as Querydsl bindings do); Bools and the time range are typed.
type Filter struct {
	Equals map[string][]string
	Bools  map[string]bool
	// From and To bound the time property named by TimeProperty (inclusive).
	TimeProperty string
	From, To     time.Time
}

// table describes how properties map to columns for one kind of row.
type table struct {
	columns map[string]string // property → SQL column
	bools   map[string]string
	times   map[string]string
}

var conversationTable = table{
	columns: map[string]string{
		"id": "c.id", "conversationId": "c.conversation_id", "messageId": "c.message_id", "direction": "c.direction",
		"sender": "c.sender", "senderIdentifier": "c.sender_identifier", "receiver": "c.receiver",
		"receiverIdentifier": "c.receiver_identifier", "processIdentifier": "c.process_identifier",
		"documentIdentifier": "c.document_identifier", "messageReference": "c.message_reference",
		"messageTitle": "c.message_title", "serviceIdentifier": "c.service_identifier", "lastUpdate": "c.last_update",
		"expiry": "c.expiry",
	},
	bools: map[string]string{"finished": "c.finished", "pollable": "c.pollable"},
	times: map[string]string{"lastUpdate": "c.last_update"},
}

var statusTable = table{
	columns: map[string]string{"id": "s.id", "messageId": "c.message_id", "conversationId": "c.conversation_id",
		"status": "s.status", "lastUpdate": "s.last_update", "convId": "s.conv_id"},
	times: map[string]string{"lastUpdate": "s.last_update"},
}

var outTable = table{
	columns: map[string]string{"id": "m.id", "messageId": "m.message_id", "conversationId": "m.conversation_id",
		"processIdentifier": "m.process_identifier", "receiverIdentifier": "m.receiver_identifier",
		"senderIdentifier": "m.sender_identifier", "serviceIdentifier": "m.service_identifier",
		"lastUpdated": "m.last_updated", "created": "m.created"},
}

// where renders f as a WHERE clause for t.
func (t table) where(f Filter) (string, []any, error) {
	var conds []string
	var args []any
	keys := make([]string, 0, len(f.Equals))
	for k := range f.Equals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		col, ok := t.columns[k]
		if !ok {
			return "", nil, fmt.Errorf("%w: unknown filter property %q", ErrBadQuery, k)
		}
		vals := f.Equals[k]
		if len(vals) == 0 {
			continue
		}
		ph := strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")
		conds = append(conds, col+" IN ("+ph+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	for k, v := range f.Bools {
		col, ok := t.bools[k]
		if !ok {
			return "", nil, fmt.Errorf("%w: unknown filter property %q", ErrBadQuery, k)
		}
		conds = append(conds, col+" = ?")
		args = append(args, v)
	}
	if f.TimeProperty != "" {
		col, ok := t.times[f.TimeProperty]
		if !ok {
			return "", nil, fmt.Errorf("%w: unknown time property %q", ErrBadQuery, f.TimeProperty)
		}
		if !f.From.IsZero() {
			conds = append(conds, col+" >= ?")
			args = append(args, ts(f.From))
		}
		if !f.To.IsZero() {
			conds = append(conds, col+" <= ?")
			args = append(args, ts(f.To))
		}
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// orderBy renders p's sort for t, or def when p has none.
func (t table) orderBy(p PageRequest, def string) (string, error) {
	if len(p.Sort) == 0 {
		if def == "" {
			return "", nil
		}
		return " ORDER BY " + def, nil
	}
	parts := make([]string, 0, len(p.Sort))
	for _, o := range p.Sort {
		col, ok := t.columns[o.Property]
		if !ok {
			col, ok = t.bools[o.Property]
		}
		if !ok {
			return "", fmt.Errorf("%w: no property %q to sort by", ErrBadQuery, o.Property)
		}
		dir := " ASC"
		if o.Desc {
			dir = " DESC"
		}
		parts = append(parts, col+dir)
	}
	return " ORDER BY " + strings.Join(parts, ", "), nil
}

func limit(p PageRequest) string {
	return fmt.Sprintf(" LIMIT %d OFFSET %d", p.Size, p.Page*p.Size)
}

// Conversations returns a page of conversations (with their statuses) and the total count.
func (s *Store) Conversations(ctx context.Context, f Filter, p PageRequest, pollableOnly bool) ([]Conversation, int64, error) {
	if pollableOnly {
		if f.Bools == nil {
			f.Bools = map[string]bool{}
		}
		f.Bools["pollable"] = true
	}
	where, args, err := conversationTable.where(f)
	if err != nil {
		return nil, 0, err
	}
	order, err := conversationTable.orderBy(p, "c.last_update DESC, c.id DESC")
	if err != nil {
		return nil, 0, err
	}
	var total int64
	var out []Conversation
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM conversations c`+where, args...).Scan(&total); err != nil {
			return fmt.Errorf("count conversations: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+convColumns+` FROM conversations c`+where+order+limit(p), args...)
		if err != nil {
			return fmt.Errorf("list conversations: %w", err)
		}
		for rows.Next() {
			c, err := scanConversation(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("list conversations: %w", err)
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return attachStatuses(ctx, tx, out)
	})
	return out, total, err
}

// Statuses returns a page of statuses (default order id ascending) and the total count.
func (s *Store) Statuses(ctx context.Context, f Filter, p PageRequest) ([]Status, int64, error) {
	where, args, err := statusTable.where(f)
	if err != nil {
		return nil, 0, err
	}
	order, err := statusTable.orderBy(p, "s.id ASC")
	if err != nil {
		return nil, 0, err
	}
	from := ` FROM message_statuses s JOIN conversations c ON c.id = s.conv_id`
	var total int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*)`+from+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count statuses: %w", err)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+statusColumns+from+where+order+limit(p), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list statuses: %w", err)
	}
	defer rows.Close()
	var out []Status
	for rows.Next() {
		st, err := scanStatus(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list statuses: %w", err)
		}
		out = append(out, st)
	}
	return out, total, rows.Err()
}

// PeekStatusQueue returns the oldest queued status without removing it; ok is false when the queue is empty.
func (s *Store) PeekStatusQueue(ctx context.Context) (st Status, ok bool, err error) {
	st, err = scanStatus(s.rdb.QueryRowContext(ctx, `SELECT `+statusColumns+` FROM status_queue q
		JOIN message_statuses s ON s.id = q.status_id JOIN conversations c ON c.id = s.conv_id ORDER BY q.status_id LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("peek status queue: %w", err)
	}
	return st, true, nil
}

// DeleteFromStatusQueue removes status id from the status queue; ok is false when it was not queued.
func (s *Store) DeleteFromStatusQueue(ctx context.Context, id int64) (ok bool, err error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM status_queue WHERE status_id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("delete from status queue: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Counts are the health figures of the queues.
type Counts struct {
	Outgoing int64 // messages in the outbox (not counting internal status messages)
	Queued   int64 // messages handed to delivery (internal status messages included)
	Pollable int64 // conversations awaiting channel status polling
	Incoming int64 // messages in the in-queue
}

// Counts counts the outbox, the delivery queue, the pollable conversations and the in-queue.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.rdb.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM out_messages WHERE internal = 0), (SELECT COUNT(*) FROM delivery_queue),
		(SELECT COUNT(*) FROM conversations WHERE pollable = 1), (SELECT COUNT(*) FROM in_messages)`).Scan(&c.Outgoing, &c.Queued, &c.Pollable, &c.Incoming)
	return c, err
}

// Ping checks the database.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }
