package store

import (
	"context"
	"errors"
	"testing"
)

func TestSubscriptionsCRUD(t *testing.T) {
	t.Parallel()
	c := newClock()
	dir := t.TempDir()
	s := open(t, dir, c)
	ctx := context.Background()

	a, err := s.CreateSubscription(ctx, Subscription{Name: "a", PushEndpoint: "http://x/a", Resource: "all", Event: "all"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || !a.Created.Equal(c.now()) || !a.Updated.Equal(c.now()) {
		t.Errorf("created %+v: want an id and timestamps %v", a, c.now())
	}
	if _, err := s.CreateSubscription(ctx, Subscription{Name: "a", PushEndpoint: "http://x/a", Resource: "messages", Event: "status"}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate create: %v, want ErrDuplicate", err)
	}
	b, err := s.CreateSubscription(ctx, Subscription{Name: "a", PushEndpoint: "http://x/b", Resource: "messages", Event: "status",
		Filter: "status=FEIL"})
	if err != nil {
		t.Fatal(err)
	}

	got, err := s.Subscription(ctx, b.ID)
	if err != nil || got != b {
		t.Errorf("Subscription(%d) = %+v, %v; want %+v", b.ID, got, err, b)
	}
	if _, err := s.Subscription(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Subscription(999): %v, want ErrNotFound", err)
	}
	if got, err := s.SubscriptionByNameAndPushEndpoint(ctx, "a", "http://x/b"); err != nil || got.ID != b.ID {
		t.Errorf("by name and endpoint: %+v, %v", got, err)
	}
	if _, err := s.SubscriptionByNameAndPushEndpoint(ctx, "a", "http://x/c"); !errors.Is(err, ErrNotFound) {
		t.Errorf("by name and endpoint (missing): %v, want ErrNotFound", err)
	}

	// Paging and sorting.
	for _, n := range []string{"c", "d", "e"} {
		if _, err := s.CreateSubscription(ctx, Subscription{Name: n, PushEndpoint: "http://x/" + n, Resource: "all", Event: "all"}); err != nil {
			t.Fatal(err)
		}
	}
	page, total, err := s.SubscriptionPage(ctx, PageRequest{Page: 1, Size: 2})
	if err != nil || total != 5 || len(page) != 2 || page[0].Name != "c" || page[1].Name != "d" {
		t.Errorf("page 1 size 2: %+v total %d, %v", page, total, err)
	}
	page, _, err = s.SubscriptionPage(ctx, PageRequest{Size: 1, Sort: []SortOrder{{Property: "pushEndpoint", Desc: true}}})
	if err != nil || len(page) != 1 || page[0].Name != "e" {
		t.Errorf("sorted by pushEndpoint desc: %+v, %v", page, err)
	}
	if _, _, err := s.SubscriptionPage(ctx, PageRequest{Size: 1, Sort: []SortOrder{{Property: "nope"}}}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("unknown sort property: %v, want ErrBadQuery", err)
	}

	// Partial update.
	c.add(1000)
	ep, filter := "http://x/a2", ""
	up, err := s.UpdateSubscription(ctx, b.ID, SubscriptionPatch{PushEndpoint: &ep, Filter: &filter})
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "a" || up.PushEndpoint != ep || up.Resource != "messages" || up.Filter != "" || !up.Updated.Equal(c.now()) || !up.Created.Equal(b.Created) {
		t.Errorf("updated %+v", up)
	}
	dup := "http://x/a"
	if _, err := s.UpdateSubscription(ctx, b.ID, SubscriptionPatch{PushEndpoint: &dup}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("update to a duplicate: %v, want ErrDuplicate", err)
	}
	if _, err := s.UpdateSubscription(ctx, 999, SubscriptionPatch{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing subscription: %v, want ErrNotFound", err)
	}

	// Subscriptions survive a restart.
	s.Close()
	s = open(t, dir, c)
	all, err := s.Subscriptions(ctx)
	if err != nil || len(all) != 5 || all[1].PushEndpoint != ep {
		t.Fatalf("after reopen: %+v, %v", all, err)
	}

	if err := s.DeleteSubscription(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSubscription(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteAllSubscriptions(ctx); err != nil {
		t.Fatal(err)
	}
	if all, err := s.Subscriptions(ctx); err != nil || len(all) != 0 {
		t.Errorf("after delete all: %+v, %v", all, err)
	}
}
