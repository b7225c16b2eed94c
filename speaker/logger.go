package speaker

import (
	"context"
	"log/slog"
	"net/netip"

	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"
)

// newGoBGPLogger bridges GoBGP's slog output into the speaker's zap logger.
// GoBGP is chatty at Info (every FSM step), so its records are cut at Warn
// unless the zap logger itself is at Debug, in which case all of them pass.
// The returned LevelVar is the one GoBGP's SetLogLevel API changes.
//
// onSent, when not nil, is told of every NOTIFICATION GoBGP sends (see
// notificationTap).
func newGoBGPLogger(l *zap.Logger, onSent func(peer netip.Addr, code, subcode uint8)) (*slog.Logger, *slog.LevelVar) {
	lvl := new(slog.LevelVar)
	lvl.Set(slog.LevelWarn)
	if l.Core().Enabled(zapcore.DebugLevel) {
		lvl.Set(slog.LevelDebug)
	}
	h := zapslog.NewHandler(l.Named("gobgp").Core())
	var handler slog.Handler = &levelHandler{Handler: h, level: lvl}
	if onSent != nil {
		handler = &notificationTap{next: handler, onSent: onSent}
	}
	return slog.New(handler), lvl
}

// levelHandler drops records below a level before they reach the wrapped
// handler.
type levelHandler struct {
	slog.Handler
	level slog.Leveler
}

// Enabled reports whether a record at lvl passes both the level and the
// wrapped handler.
func (h *levelHandler) Enabled(ctx context.Context, lvl slog.Level) bool {
	return lvl >= h.level.Level() && h.Handler.Enabled(ctx, lvl)
}

// WithAttrs keeps the level filter on the derived handler.
func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{Handler: h.Handler.WithAttrs(attrs), level: h.level}
}

// WithGroup keeps the level filter on the derived handler.
func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{Handler: h.Handler.WithGroup(name), level: h.level}
}
