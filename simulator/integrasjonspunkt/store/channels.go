package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RememberMessageChannel records the message channel an incoming message carried.
func (s *Store) RememberMessageChannel(ctx context.Context, messageID, channel string) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO message_channels (message_id, channel, created) VALUES (?, ?, ?)`,
		messageID, channel, ts(s.now()))
	if err != nil {
		return fmt.Errorf("remember message channel of %s: %w", messageID, err)
	}
	return nil
}

// MessageChannelOf is the message channel messageID arrived with, "" when none.
func (s *Store) MessageChannelOf(ctx context.Context, messageID string) (string, error) {
	var ch string
	err := s.rdb.QueryRowContext(ctx, `SELECT channel FROM message_channels WHERE message_id = ?`, messageID).Scan(&ch)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("message channel of %s: %w", messageID, err)
	}
	return ch, nil
}
