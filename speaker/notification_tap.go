package speaker

import (
	"context"
	"log/slog"
	"net/netip"
)

// gobgpSentNotificationMsg is the message GoBGP v4 logs (at Info, with
// integer "Code" and "Subcode" attributes) every time it sends a
// NOTIFICATION, on a peer logger that carries the neighbor address as "Key".
// It is the only place GoBGP exposes a NOTIFICATION it sends on a connection
// it dialled itself before Established: that path changes no state and
// raises no peer event.
const gobgpSentNotificationMsg = "sent notification"

// notificationTap is an slog.Handler in front of the speaker's log bridge.
// It passes records on unchanged (subject to the wrapped handler's level)
// and reports every NOTIFICATION GoBGP logs as sent.
type notificationTap struct {
	next slog.Handler
	// key is the "Key" attribute bound with WithAttrs: GoBGP's neighbor address.
	key    string
	onSent func(peer netip.Addr, code, subcode uint8)
}

// Enabled lets Info records through even when the wrapped handler is at
// Warn, so the tap sees GoBGP's "sent notification" lines.
func (t *notificationTap) Enabled(ctx context.Context, lvl slog.Level) bool {
	return lvl >= slog.LevelInfo || t.next.Enabled(ctx, lvl)
}

// Handle reports a sent NOTIFICATION, then forwards the record when the
// wrapped handler wants it.
func (t *notificationTap) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == gobgpSentNotificationMsg && t.key != "" {
		t.report(r)
	}
	if !t.next.Enabled(ctx, r.Level) {
		return nil
	}
	return t.next.Handle(ctx, r)
}

// report extracts the neighbor, code and subcode of one record.
func (t *notificationTap) report(r slog.Record) {
	addr, err := netip.ParseAddr(t.key)
	if err != nil {
		return
	}
	var code, sub int64 = -1, -1
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "Code":
			code = a.Value.Int64()
		case "Subcode":
			sub = a.Value.Int64()
		}
		return true
	})
	if code < 0 || code > 255 || sub < 0 || sub > 255 {
		return
	}
	t.onSent(addr, uint8(code), uint8(sub))
}

// WithAttrs remembers the neighbor address GoBGP binds to its peer loggers.
func (t *notificationTap) WithAttrs(attrs []slog.Attr) slog.Handler {
	key := t.key
	for _, a := range attrs {
		if a.Key == "Key" {
			key = a.Value.String()
		}
	}
	return &notificationTap{next: t.next.WithAttrs(attrs), key: key, onSent: t.onSent}
}

// WithGroup keeps the tap on the derived handler.
func (t *notificationTap) WithGroup(name string) slog.Handler {
	return &notificationTap{next: t.next.WithGroup(name), key: t.key, onSent: t.onSent}
}
