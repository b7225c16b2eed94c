package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/peerlab/peerlab/internal/userfile"
	"github.com/peerlab/peerlab/lab/routes"
	"github.com/peerlab/peerlab/speaker"
	"github.com/peerlab/peerlab/speaker/inject"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newInjectCommand builds `peerlab inject`: a bulk-table injector
// (package speaker/inject) run as a process until SIGINT or SIGTERM.
func newInjectCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inject --address ADDR --peer ADDR --peer-as AS (--generate N --from PREFIX | --mrt FILE)",
		Short: "Push a full table into a BGP peer at wire speed until interrupted",
		Long: `inject runs a send-mostly BGP speaker (docs/injection.md) from --address to
--peer: it packs its table once into full UPDATEs and sends it to the peer
when the session is Established, then keeps the session up (keepalives,
reconnects replay the table) until SIGINT or SIGTERM, when it sends a Cease
and exits 0.

The table comes from --generate N --from PREFIX (--length, --variety,
--order: the same generator as a topology's routes: key) and/or --mrt FILE (--limit).
Next hops are --next-hop, else --address, for routes of its family.

By default the table is packed before the session starts, so it leaves at
once, packed. --live-batch B starts with an empty table instead and, once
the session is Established, announces the routes in batches of B (as fast
as they pack, or --live-rate routes/s).

Sockets are bound to --address only: the session is dialled from it, and
with --passive awaited on it. Progress is logged at info level (the default
for this command unless --log-level says otherwise).`,
		Example: `  peerlab inject --address 10.0.0.1 --as 65001 --peer 10.0.0.2 --peer-as 65002 \
      --generate 1000000 --from 16.0.0.0/4
  peerlab inject --address 10.0.0.1 --peer 10.0.0.2 --peer-as 65002 \
      --mrt rib.mrt --limit 500000 --live-batch 10000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := injectOptionsFrom(a.v)
			if err != nil {
				return usageErrorf("peerlab inject: %v", err)
			}
			level := a.v.GetString("log-level")
			if !a.v.IsSet("log-level") {
				level = "info" // progress is what this command prints
			}
			log, err := loggerTo(cmd.ErrOrStderr(), level, a.v.GetString("log-format"))
			if err != nil {
				return usageErrorf("peerlab inject: %v", err)
			}
			defer func() { _ = log.Sync() }()
			// cmd.Context ends on SIGTERM or SIGINT (see main).
			return runInject(cmd.Context(), o, log)
		},
	}
	f := cmd.Flags()
	f.String("address", "", "local address: sessions are dialled from it, --passive awaits on it (required)")
	f.Uint32("as", 65001, "local AS number")
	f.String("peer", "", "the peer's address (required)")
	f.Uint32("peer-as", 0, "the AS the peer announces in its OPEN (required)")
	f.Bool("passive", false, "wait for the peer to connect to --address:--port instead of dialling it")
	f.Int("port", inject.DefaultPort, "TCP port of the session")
	f.Duration("hold", inject.DefaultHoldTime, "hold time offered in OPEN (0: no keepalives; else 3s..65535s)")
	f.Int("generate", 0, "generate N prefixes carved in order from --from")
	f.String("from", "", "range generated prefixes are carved from, e.g. 16.0.0.0/4")
	f.Int("length", 0, "generated prefix length (default 24 for IPv4, 64 for IPv6)")
	f.Int("variety", 0, "attribute sets generated routes cycle through (0 or 1: minimal attributes)")
	f.String("order", routes.OrderAddress, "order generated prefixes are sent in: address, or bird-fib (the order a BIRD 1.6 upstream sends, IPv4)")
	f.String("mrt", "", "also send the routes of this MRT TABLE_DUMP_V2 file")
	f.Int("limit", 0, "read at most this many routes from --mrt (0: all)")
	f.String("next-hop", "", "next hop of the routes of its family (default --address)")
	f.Int("live-batch", 0, "start empty and announce the routes in batches of this many once Established")
	f.Float64("live-rate", 0, "with --live-batch: at most this many routes per second (0: as fast as they pack)")
	return cmd
}

// injectOptions are the checked settings of `peerlab inject`.
type injectOptions struct {
	cfg       inject.Config
	gen       *routes.Generator // nil: no generator
	mrt       string
	limit     int
	nextHop   netip.Addr
	liveBatch int
	liveRate  float64
}

// injectOptionsFrom reads and checks the flags of `peerlab inject`.
func injectOptionsFrom(v *viper.Viper) (injectOptions, error) {
	var o injectOptions
	addr, err := addrFlag(v, "address", true)
	if err != nil {
		return o, err
	}
	peer, err := addrFlag(v, "peer", true)
	if err != nil {
		return o, err
	}
	if peer == addr {
		return o, fmt.Errorf("--peer %s is --address", peer)
	}
	if v.GetUint32("as") == 0 {
		return o, errors.New("--as: want an AS number from 1 to 4294967295")
	}
	if v.GetUint32("peer-as") == 0 {
		return o, errors.New("--peer-as is required")
	}
	port := v.GetInt("port")
	if port < 1 || port > 65535 {
		return o, fmt.Errorf("--port %d: want 1..65535", port)
	}
	hold := v.GetDuration("hold")
	switch {
	case hold == 0:
		hold = -1 // inject.Config: negative offers 0
	case hold < 3*time.Second || hold > 65535*time.Second:
		return o, fmt.Errorf("--hold %s: want 0 or 3s..65535s", hold)
	}
	if o.nextHop, err = addrFlag(v, "next-hop", false); err != nil {
		return o, err
	}
	if !o.nextHop.IsValid() {
		o.nextHop = addr
	}
	o.cfg = inject.Config{
		Address: addr, AS: v.GetUint32("as"), Port: port, HoldTime: hold,
		Peers: []inject.Peer{{Address: peer, AS: v.GetUint32("peer-as"), Passive: v.GetBool("passive")}},
	}
	if o.nextHop.Is6() {
		o.cfg.NextHop6 = o.nextHop
	}
	if err := o.sources(v); err != nil {
		return o, err
	}
	o.liveBatch, o.liveRate = v.GetInt("live-batch"), v.GetFloat64("live-rate")
	switch {
	case o.liveBatch < 0:
		return o, fmt.Errorf("--live-batch %d: want a positive batch size", o.liveBatch)
	case o.liveRate < 0:
		return o, fmt.Errorf("--live-rate %g: want a positive rate", o.liveRate)
	case o.liveRate > 0 && o.liveBatch == 0:
		return o, errors.New("--live-rate needs --live-batch")
	}
	return o, nil
}

// sources reads the table flags: a generator and/or an MRT file.
func (o *injectOptions) sources(v *viper.Viper) error {
	n := v.GetInt("generate")
	switch {
	case n < 0:
		return fmt.Errorf("--generate %d: want a positive count", n)
	case n > 0:
		from, err := netip.ParsePrefix(v.GetString("from"))
		if err != nil {
			return fmt.Errorf("--generate needs --from PREFIX: %v", err)
		}
		g := routes.Generator{Count: n, From: from, Length: v.GetInt("length"), Variety: v.GetInt("variety"), Order: v.GetString("order")}
		if g.Length == 0 {
			g.Length = 24
			if from.Addr().Is6() {
				g.Length = 64
			}
		}
		if err := g.Validate(); err != nil {
			return fmt.Errorf("--generate: %v", err)
		}
		o.gen = &g
	default:
		for _, f := range []string{"from", "length", "variety", "order"} {
			if v.IsSet(f) {
				return fmt.Errorf("--%s is only valid with --generate", f)
			}
		}
	}
	o.mrt, o.limit = v.GetString("mrt"), v.GetInt("limit")
	switch {
	case o.limit < 0:
		return fmt.Errorf("--limit %d: want a positive count", o.limit)
	case o.limit > 0 && o.mrt == "":
		return errors.New("--limit is only valid with --mrt")
	case o.gen == nil && o.mrt == "":
		return errors.New("no routes: give --generate N --from PREFIX and/or --mrt FILE")
	}
	if o.mrt != "" {
		f, err := userfile.Open(o.mrt)
		if err != nil {
			return fmt.Errorf("--mrt: %v", err)
		}
		f.Close()
	}
	return nil
}

// addrFlag parses the address flag name; "" is an error when required.
func addrFlag(v *viper.Viper, name string, required bool) (netip.Addr, error) {
	s := v.GetString(name)
	if s == "" {
		if required {
			return netip.Addr{}, fmt.Errorf("--%s is required", name)
		}
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("--%s: %v", name, err)
	}
	return a.Unmap(), nil
}

// source is the table: the generator's routes, then the MRT file's, each
// with the next hop of its family.
func (o injectOptions) source() inject.Source {
	return func(yield func(speaker.Route) error) error {
		withNextHop := routes.WithNextHop(o.nextHop, yield)
		if o.gen != nil {
			if err := o.gen.Each(withNextHop); err != nil {
				return err
			}
		}
		if o.mrt == "" {
			return nil
		}
		f, err := userfile.Open(o.mrt)
		if err != nil {
			return fmt.Errorf("mrt: %w", err)
		}
		defer f.Close()
		if err := routes.EachMRT(f, routes.MRTOptions{Limit: o.limit}, withNextHop); err != nil {
			return fmt.Errorf("%s: %w", o.mrt, err)
		}
		return nil
	}
}

// runInject runs the injector until ctx ends, then closes it.
func runInject(ctx context.Context, o injectOptions, log *zap.Logger) error {
	cfg := o.cfg
	cfg.Logger = log
	in, err := inject.New(cfg)
	if err != nil {
		return fmt.Errorf("inject: %w", err)
	}
	if o.liveBatch == 0 {
		start := time.Now()
		if err := in.Load(o.source()); err != nil {
			return fmt.Errorf("inject: load table: %w", err)
		}
		t := in.Table()
		log.Info("table loaded", zap.Int64("prefixes", t.Prefixes), zap.Int("updates", t.Updates),
			zap.Int64("bytes", t.Bytes), zap.Duration("took", time.Since(start)))
	}
	if err := in.Start(); err != nil {
		return fmt.Errorf("inject: %w", err)
	}
	defer in.Close()
	log.Info("injector started", zap.Stringer("address", cfg.Address), zap.Int("port", cfg.Port),
		zap.Stringer("peer", cfg.Peers[0].Address), zap.Bool("passive", cfg.Peers[0].Passive))
	var announcing atomic.Bool
	announcing.Store(o.liveBatch > 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchInjector(ctx, in, log, &announcing)
	}()
	if o.liveBatch > 0 {
		err = announceLive(ctx, in, o, log)
		announcing.Store(false)
		if err != nil && ctx.Err() == nil {
			in.Close()
			<-done
			return fmt.Errorf("inject: %w", err)
		}
	}
	<-ctx.Done()
	<-done
	in.Close()
	st := in.Stats()[0]
	log.Info("injector stopped", zap.String("state", string(st.State)), zap.Int64("updates_sent", st.UpdatesSent),
		zap.Int64("prefixes_sent", st.PrefixesSent), zap.Int64("bytes_sent", st.BytesSent))
	return nil
}

// announceLive waits for the session to be Established, then announces
// the table in batches of o.liveBatch, paced to o.liveRate when set.
func announceLive(ctx context.Context, in *inject.Injector, o injectOptions, log *zap.Logger) error {
	t := time.NewTicker(5 * time.Millisecond)
	for in.Stats()[0].State != inject.StateEstablished {
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	t.Stop()
	start := time.Now()
	batch := make([]speaker.Route, 0, o.liveBatch)
	sent, batches := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := in.Announce(batch); err != nil {
			return err
		}
		sent += len(batch)
		batches++
		batch = batch[:0]
		if o.liveRate > 0 {
			due := start.Add(time.Duration(float64(sent) / o.liveRate * float64(time.Second)))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Until(due)):
			}
		}
		return ctx.Err()
	}
	err := o.source()(func(r speaker.Route) error {
		batch = append(batch, r)
		if len(batch) < o.liveBatch {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	took := time.Since(start)
	if err != nil {
		return fmt.Errorf("live announce after %d routes: %w", sent, err)
	}
	log.Info("live routes announced", zap.Int("routes", sent), zap.Int("batches", batches),
		zap.Duration("took", took), zap.Float64("routes_per_s", float64(sent)/took.Seconds()))
	return nil
}

// watchInjector logs what the session does that the injector does not
// log itself: failed attempts (once per distinct error) and each time the
// peer has been written the whole table, until ctx ends.
func watchInjector(ctx context.Context, in *inject.Injector, log *zap.Logger, announcing *atomic.Bool) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	lastErr, connects := "", 0
	var syncedAt int64 = -1 // table prefixes when "table synced" was last logged
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, tab := in.Stats()[0], in.Table()
		if st.LastError != lastErr {
			lastErr = st.LastError // "" again once Established
			if lastErr != "" {
				fields := []zap.Field{zap.String("state", string(st.State)), zap.String("error", st.LastError)}
				if st.Notification != nil && !strings.Contains(st.LastError, st.Notification.Error()) {
					fields = append(fields, zap.String("notification", st.Notification.Error()))
				}
				log.Warn("session attempt failed", fields...)
			}
		}
		if st.Connects != connects {
			connects, syncedAt = st.Connects, -1
		}
		if !st.Synced || announcing.Load() || tab.Prefixes == syncedAt {
			continue
		}
		syncedAt = tab.Prefixes
		took := time.Since(st.Established)
		log.Info("table synced", zap.Int64("table_prefixes", tab.Prefixes), zap.Int("table_updates", tab.Updates),
			zap.Int64("table_bytes", tab.Bytes), zap.Int64("updates_sent", st.UpdatesSent),
			zap.Int64("prefixes_sent", st.PrefixesSent), zap.Int64("bytes_sent", st.BytesSent),
			zap.Duration("since_established", took), zap.Strings("families", st.Families))
	}
}

// loggerTo is newLogger writing to w (the command's stderr), so that
// tests can read the progress.
func loggerTo(w io.Writer, level, format string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	var enc zapcore.Encoder
	switch format {
	case "console":
		enc = zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	case "json":
		enc = zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	default:
		return nil, fmt.Errorf("--log-format: %q is not console or json", format)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), lvl)), nil
}
