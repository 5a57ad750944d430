package store

import (
	"context"
	"fmt"
)

// SetPollable turns channel status polling of the conversation of messageID in direction on or off
// without registering a status: for a channel that must stop polling when the status that says so was
// registered before (statuses are kept once each). ErrNotFound when there is no such conversation.
func (s *Store) SetPollable(ctx context.Context, messageID, direction string, pollable bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE conversations SET pollable = ? WHERE message_id = ? AND direction = ?`,
		pollable, messageID, direction)
	if err != nil {
		return fmt.Errorf("set pollable of %s: %w", messageID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("conversation of message %s (%s): %w", messageID, direction, ErrNotFound)
	}
	return nil
}
