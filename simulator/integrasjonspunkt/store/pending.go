package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// AddPendingDownload remembers that channel started, or is about to start, downloading transfer id for
// organisation org and has not confirmed it yet. Adding one that is remembered already is a no-op.
func (s *Store) AddPendingDownload(ctx context.Context, channel, org, id string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO pending_downloads (channel, org, transfer_id, since) VALUES (?, ?, ?, ?)`,
		channel, org, id, ts(s.now())); err != nil {
		return fmt.Errorf("remember pending download %s: %w", id, err)
	}
	return nil
}

// RemovePendingDownload forgets a pending download (confirmed, or refused for good).
func (s *Store) RemovePendingDownload(ctx context.Context, channel, org, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM pending_downloads WHERE channel = ? AND org = ? AND transfer_id = ?`,
		channel, org, id); err != nil {
		return fmt.Errorf("forget pending download %s: %w", id, err)
	}
	return nil
}

// PendingDownloads lists the pending downloads of channel for org, oldest first.
func (s *Store) PendingDownloads(ctx context.Context, channel, org string) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT transfer_id FROM pending_downloads WHERE channel = ? AND org = ? ORDER BY since, transfer_id`,
		channel, org)
	if err != nil {
		return nil, fmt.Errorf("pending downloads: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("pending downloads: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending downloads: %w", err)
	}
	return ids, nil
}

// sweepIncoming removes container files of incoming messages that no in-queue row names: those a process
// wrote and then died before the transaction that would have named them committed. It runs at Open,
// before anything else can write one.
func (s *Store) sweepIncoming(ctx context.Context) error {
	entries, err := os.ReadDir(s.incomingDir())
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sweep incoming files: %w", err)
	}
	// The names rows hold, read once: one query per file would make a restart with a long incoming
	// queue quadratic.
	named := map[string]bool{}
	rows, err := s.rdb.QueryContext(ctx, `SELECT asic_file FROM in_messages WHERE asic_file IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("sweep incoming files: %w", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("sweep incoming files: %w", err)
		}
		named[name] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("sweep incoming files: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		if strings.HasSuffix(name, tmpSuffix) || !named[name] {
			_ = os.Remove(filepath.Join(s.incomingDir(), name))
		}
	}
	return nil
}

// tmpSuffix names a file being written; writeDurable renames it to its name when it is complete.
const tmpSuffix = ".tmp"

// writeDurable writes data to path so that path, once it exists, is complete and on disk: it writes a
// temporary file beside it, syncs it and renames it, then syncs the directory.
func writeDurable(path string, data []byte) error {
	tmp := path + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
