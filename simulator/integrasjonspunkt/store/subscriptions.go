package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Subscription is a webhook subscription (spec ip-api §8.1): status events matching Resource, Event and
// Filter are pushed to PushEndpoint. A Name and PushEndpoint pair is unique.
type Subscription struct {
	ID           int64
	Name         string
	PushEndpoint string
	Resource     string // "all" or "messages"
	Event        string // "all" or "status"
	// Filter is the filter definition (spec ip-api §8.2); empty when there is none.
	Filter  string
	Created time.Time
	Updated time.Time
}

// SubscriptionPatch is a partial update of a subscription: nil fields are kept.
type SubscriptionPatch struct {
	Name         *string
	PushEndpoint *string
	Resource     *string
	Event        *string
	Filter       *string
}

// subscriptionTable maps the Subscription entity's properties to columns, for sorting.
var subscriptionTable = table{
	columns: map[string]string{"id": "w.id", "name": "w.name", "pushEndpoint": "w.push_endpoint",
		"resource": "w.resource", "event": "w.event", "filter": "w.filter"},
}

const subscriptionColumns = `w.id, w.name, w.push_endpoint, w.resource, w.event, w.filter, w.created, w.last_updated`

func scanSubscription(row scanner) (Subscription, error) {
	var sub Subscription
	var filter sql.NullString
	var created, updated string
	err := row.Scan(&sub.ID, &sub.Name, &sub.PushEndpoint, &sub.Resource, &sub.Event, &filter, &created, &updated)
	sub.Filter, sub.Created, sub.Updated = filter.String, parseTS(created), parseTS(updated)
	return sub, err
}

// CreateSubscription stores sub (its ID, Created and Updated are set by the store) and returns it as
// stored. ErrDuplicate means a subscription with the same name and push endpoint exists.
func (s *Store) CreateSubscription(ctx context.Context, sub Subscription) (Subscription, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO webhook_subscriptions (name, push_endpoint, resource, event, filter, created, last_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, sub.Name, sub.PushEndpoint, sub.Resource, sub.Event, nullable(sub.Filter), ts(now), ts(now))
	if isUniqueViolation(err) {
		return sub, fmt.Errorf("subscription %q to %s: %w", sub.Name, sub.PushEndpoint, ErrDuplicate)
	}
	if err != nil {
		return sub, fmt.Errorf("create subscription: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return sub, fmt.Errorf("create subscription: %w", err)
	}
	sub.ID = id
	sub.Created, sub.Updated = parseTS(ts(now)), parseTS(ts(now))
	return sub, nil
}

// Subscription returns the subscription with numeric id, or ErrNotFound.
func (s *Store) Subscription(ctx context.Context, id int64) (Subscription, error) {
	sub, err := scanSubscription(s.rdb.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions w WHERE w.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("subscription %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return sub, fmt.Errorf("subscription %d: %w", id, err)
	}
	return sub, nil
}

// SubscriptionByNameAndPushEndpoint returns the subscription with that name and push endpoint, or ErrNotFound.
func (s *Store) SubscriptionByNameAndPushEndpoint(ctx context.Context, name, pushEndpoint string) (Subscription, error) {
	sub, err := scanSubscription(s.rdb.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions w
		WHERE w.name = ? AND w.push_endpoint = ?`, name, pushEndpoint))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("subscription %q to %s: %w", name, pushEndpoint, ErrNotFound)
	}
	if err != nil {
		return sub, fmt.Errorf("subscription %q to %s: %w", name, pushEndpoint, err)
	}
	return sub, nil
}

// SubscriptionPage returns a page of subscriptions (id order unless p sorts) and the total count.
func (s *Store) SubscriptionPage(ctx context.Context, p PageRequest) ([]Subscription, int64, error) {
	order, err := subscriptionTable.orderBy(p, "w.id ASC")
	if err != nil {
		return nil, 0, err
	}
	var total int64
	var out []Subscription
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_subscriptions w`).Scan(&total); err != nil {
			return fmt.Errorf("count subscriptions: %w", err)
		}
		out, err = querySubscriptions(ctx, tx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions w`+order+limit(p))
		return err
	})
	return out, total, err
}

// Subscriptions returns every subscription in id order.
func (s *Store) Subscriptions(ctx context.Context) ([]Subscription, error) {
	return querySubscriptions(ctx, s.db, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions w ORDER BY w.id`)
}

func querySubscriptions(ctx context.Context, q querier, query string) ([]Subscription, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// UpdateSubscription applies patch to subscription id and returns it as stored. ErrNotFound means there
// is no such subscription, ErrDuplicate that another one has the resulting name and push endpoint.
func (s *Store) UpdateSubscription(ctx context.Context, id int64, patch SubscriptionPatch) (Subscription, error) {
	var sub Subscription
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		sub, err = scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions w WHERE w.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&sub.Name, patch.Name)
		set(&sub.PushEndpoint, patch.PushEndpoint)
		set(&sub.Resource, patch.Resource)
		set(&sub.Event, patch.Event)
		set(&sub.Filter, patch.Filter)
		now := s.now()
		_, err = tx.ExecContext(ctx, `UPDATE webhook_subscriptions SET name = ?, push_endpoint = ?, resource = ?, event = ?, filter = ?,
			last_updated = ? WHERE id = ?`, sub.Name, sub.PushEndpoint, sub.Resource, sub.Event, nullable(sub.Filter), ts(now), id)
		if isUniqueViolation(err) {
			return ErrDuplicate
		}
		sub.Updated = parseTS(ts(now))
		return err
	})
	if err != nil {
		return sub, fmt.Errorf("update subscription %d: %w", id, err)
	}
	return sub, nil
}

// DeleteSubscription deletes subscription id; ErrNotFound when there is none.
func (s *Store) DeleteSubscription(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webhook_subscriptions WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete subscription %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete subscription %d: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteAllSubscriptions deletes every subscription.
func (s *Store) DeleteAllSubscriptions(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM webhook_subscriptions`); err != nil {
		return fmt.Errorf("delete subscriptions: %w", err)
	}
	return nil
}
