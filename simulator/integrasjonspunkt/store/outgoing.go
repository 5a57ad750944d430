package store

import (
	"bytes"
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

// OutMessage is a message in the outbox: created, perhaps with files, not yet delivered.
type OutMessage struct {
	ID                 int64
	MessageID          string
	ConversationID     string
	ProcessIdentifier  string
	SenderIdentifier   string
	ReceiverIdentifier string
	ServiceIdentifier  string
	// SBD is the stored StandardBusinessDocument JSON, after defaults.
	SBD         []byte
	Created     time.Time
	LastUpdated time.Time
	Files       []File
	// Internal marks a message the integration point sends by itself (a status SBD, see EnqueueInternal):
	// it is delivered like any other but never listed to the client.
	Internal bool
}

// File is an attachment of an outgoing message; its bytes live in the data directory.
type File struct {
	ID             int64
	MessageID      string
	Identifier     string
	Filename       string
	Title          string
	MimeType       string
	Size           int64
	Primary        bool
	Dokumentnummer int
}

const outColumns = `m.id, m.message_id, m.conversation_id, m.process_identifier, m.sender_identifier, m.receiver_identifier,
	m.service_identifier, m.sbd, m.created, m.last_updated, m.internal`

func scanOut(row scanner) (OutMessage, error) {
	var m OutMessage
	var created, updated string
	err := row.Scan(&m.ID, &m.MessageID, &m.ConversationID, &m.ProcessIdentifier, &m.SenderIdentifier, &m.ReceiverIdentifier,
		&m.ServiceIdentifier, &m.SBD, &created, &updated, &m.Internal)
	m.Created, m.LastUpdated = parseTS(created), parseTS(updated)
	return m, err
}

// CreateOutgoing stores a new outgoing message and its conversation with status OPPRETTET, in one
// transaction. It fails with ErrDuplicate when the messageId is used by an outgoing message or any
// conversation (the real IP refuses reuse while the conversation exists).
func (s *Store) CreateOutgoing(ctx context.Context, m OutMessage, c Conversation, statusQueue func(string) bool) (*StatusEvent, error) {
	now := s.now()
	var ev *StatusEvent
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM out_messages WHERE message_id = ?) + (SELECT COUNT(*) FROM conversations WHERE message_id = ?)`,
			m.MessageID, m.MessageID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("message %s: %w", m.MessageID, ErrDuplicate)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO out_messages (message_id, conversation_id, process_identifier, sender_identifier,
			receiver_identifier, service_identifier, sbd, created, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.MessageID, m.ConversationID, m.ProcessIdentifier, m.SenderIdentifier, m.ReceiverIdentifier, m.ServiceIdentifier,
			m.SBD, ts(now), ts(now)); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("message %s: %w", m.MessageID, ErrDuplicate)
			}
			return err
		}
		c.Direction, c.LastUpdate = Outgoing, now
		id, err := insertConversation(ctx, tx, c)
		if err != nil {
			return err
		}
		c.ID = id
		ev, err = s.registerOn(ctx, tx, c, StatusChange{Status: wire.StatusOpprettet, At: now}, statusQueue)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create outgoing: %w", err)
	}
	return ev, nil
}

// UpdateOutgoingSBD replaces the stored SBD of an outgoing message.
func (s *Store) UpdateOutgoingSBD(ctx context.Context, messageID string, sbd []byte) error {
	res, err := s.db.ExecContext(ctx, `UPDATE out_messages SET sbd = ?, last_updated = ? WHERE message_id = ?`, sbd, ts(s.now()), messageID)
	if err != nil {
		return fmt.Errorf("update outgoing %s: %w", messageID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("outgoing message %s: %w", messageID, ErrNotFound)
	}
	return nil
}

// UpdateConversationMeta sets the messageReference and messageTitle of the outgoing conversation of
// messageID (from an uploaded arkivmelding.xml, or a DPI title at send); empty values are left alone.
func (s *Store) UpdateConversationMeta(ctx context.Context, messageID, reference, title string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE conversations SET
		message_reference = CASE WHEN ? = '' THEN message_reference ELSE ? END,
		message_title = CASE WHEN ? = '' THEN message_title ELSE ? END
		WHERE message_id = ? AND direction = ?`, reference, reference, title, title, messageID, Outgoing)
	return err
}

// Outgoing returns the outgoing message messageID with its files (in dokumentnummer order).
func (s *Store) Outgoing(ctx context.Context, messageID string) (OutMessage, error) {
	m, err := scanOut(s.rdb.QueryRowContext(ctx, `SELECT `+outColumns+` FROM out_messages m WHERE m.message_id = ?`, messageID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("outgoing message %s: %w", messageID, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("outgoing message %s: %w", messageID, err)
	}
	m.Files, err = s.files(ctx, messageID)
	return m, err
}

// OutgoingExists reports whether messageID is an outgoing message, with one cheap query (Outgoing reads
// the message and its files).
func (s *Store) OutgoingExists(ctx context.Context, messageID string) (bool, error) {
	var n int
	err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM out_messages WHERE message_id = ?`, messageID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("outgoing message %s: %w", messageID, err)
	}
	return n > 0, nil
}

func (s *Store) files(ctx context.Context, messageID string) ([]File, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, message_id, identifier, filename, title, mimetype, size, primary_document, dokumentnummer
		FROM out_files WHERE message_id = ? ORDER BY dokumentnummer`, messageID)
	if err != nil {
		return nil, fmt.Errorf("files of %s: %w", messageID, err)
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		var f File
		if err := rows.Scan(&f.ID, &f.MessageID, &f.Identifier, &f.Filename, &f.Title, &f.MimeType, &f.Size, &f.Primary, &f.Dokumentnummer); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// OutgoingPage returns a page of outgoing messages (without files) and the total count. Internal
// messages (status SBDs the integration point sends by itself) are not listed.
func (s *Store) OutgoingPage(ctx context.Context, f Filter, p PageRequest) ([]OutMessage, int64, error) {
	where, args, err := outTable.where(f)
	if err != nil {
		return nil, 0, err
	}
	if where == "" {
		where = " WHERE m.internal = 0"
	} else {
		where += " AND m.internal = 0"
	}
	order, err := outTable.orderBy(p, "m.id ASC")
	if err != nil {
		return nil, 0, err
	}
	var total int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM out_messages m`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+outColumns+` FROM out_messages m`+where+order+limit(p), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []OutMessage
	for rows.Next() {
		m, err := scanOut(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}

// DeleteOutgoing removes an outgoing message, its files and any queue entry (not its conversation).
func (s *Store) DeleteOutgoing(ctx context.Context, messageID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM out_messages WHERE message_id = ?`, messageID); err != nil {
		return fmt.Errorf("delete outgoing %s: %w", messageID, err)
	}
	return os.RemoveAll(s.fileDir(messageID))
}

func (s *Store) fileDir(messageID string) string {
	return filepath.Join(s.dir, "files", filepath.Base(filepath.Clean("/"+messageID)))
}

// InlineLimit is the largest attachment kept in the database with its row; larger ones are files in the
// data directory (written and synced before their row commits).
const InlineLimit = 256 << 10

// AddFile stores content as a new file of messageID. It reads at most limit bytes beyond what the message
// already holds (ErrTooLarge wraps the refusal), and fails with ErrDuplicate for a filename the message
// has. The file's number is one more than the message's highest.
func (s *Store) AddFile(ctx context.Context, f File, content io.Reader, limit int64) (File, error) {
	if ok, err := s.OutgoingExists(ctx, f.MessageID); err != nil {
		return f, err
	} else if !ok {
		return f, fmt.Errorf("outgoing message %s: %w", f.MessageID, ErrNotFound)
	}
	f.Identifier = uuid.NewString()
	// Read up to InlineLimit: a file that ends there is kept in its row; a longer one goes to a file.
	head, err := io.ReadAll(io.LimitReader(content, min(limit, InlineLimit)+1))
	if err != nil {
		return f, fmt.Errorf("store file %s: %w", f.Filename, err)
	}
	var inline []byte
	path := ""
	if int64(len(head)) <= InlineLimit && int64(len(head)) <= limit {
		inline, f.Size = head, int64(len(head))
		if inline == nil {
			inline = []byte{}
		}
	} else {
		dir := s.fileDir(f.MessageID)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return f, fmt.Errorf("store file: %w", err)
		}
		path = filepath.Join(dir, f.Identifier)
		out, err := os.Create(path)
		if err != nil {
			return f, fmt.Errorf("store file: %w", err)
		}
		n, err := io.Copy(out, io.LimitReader(io.MultiReader(bytes.NewReader(head), content), limit+1))
		if err == nil {
			err = out.Sync()
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return f, fmt.Errorf("store file %s: %w", f.Filename, err)
		}
		if n > limit {
			os.Remove(path)
			return f, fmt.Errorf("file %s: %w", f.Filename, ErrTooLarge)
		}
		f.Size = n
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var max sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(dokumentnummer) FROM out_files WHERE message_id = ?`, f.MessageID).Scan(&max); err != nil {
			return err
		}
		f.Dokumentnummer = int(max.Int64) + 1
		res, err := tx.ExecContext(ctx, `INSERT INTO out_files (message_id, identifier, filename, title, mimetype, size, primary_document, dokumentnummer, content)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, f.MessageID, f.Identifier, f.Filename, f.Title, f.MimeType, f.Size, f.Primary, f.Dokumentnummer, inline)
		if isUniqueViolation(err) {
			return fmt.Errorf("file %s: %w", f.Filename, ErrDuplicate)
		}
		if err != nil {
			return err
		}
		f.ID, _ = res.LastInsertId()
		_, err = tx.ExecContext(ctx, `UPDATE out_messages SET last_updated = ? WHERE message_id = ?`, ts(s.now()), f.MessageID)
		return err
	})
	if err != nil {
		if path != "" {
			os.Remove(path)
		}
		return f, err
	}
	return f, nil
}

// ErrTooLarge is wrapped when content exceeds a size limit.
var ErrTooLarge = errors.New("too large")

// OpenFile opens the stored content of f.
func (s *Store) OpenFile(f File) (io.ReadCloser, error) {
	var inline []byte
	var isInline bool
	err := s.rdb.QueryRow(`SELECT content IS NOT NULL, IFNULL(content, x'') FROM out_files WHERE message_id = ? AND identifier = ?`,
		f.MessageID, f.Identifier).Scan(&isInline, &inline)
	if err == nil && isInline {
		return io.NopCloser(bytes.NewReader(inline)), nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("open file %s of %s: %w", f.Filename, f.MessageID, err)
	}
	r, err := os.Open(filepath.Join(s.fileDir(f.MessageID), filepath.Base(f.Identifier)))
	if err != nil {
		return nil, fmt.Errorf("open file %s of %s: %w", f.Filename, f.MessageID, err)
	}
	return r, nil
}

// TotalFileSize is the size of every file of messageID together.
func (s *Store) TotalFileSize(ctx context.Context, messageID string) (int64, error) {
	var n sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, `SELECT SUM(size) FROM out_files WHERE message_id = ?`, messageID).Scan(&n)
	return n.Int64, err
}
