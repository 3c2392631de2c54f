package hubble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/netpol/netpol"
)

// RelayOptions configures NewRelaySource. The zero value follows every
// flow from now on, over plaintext, until the context is done, retrying
// forever with a backoff of 1s doubling up to 1m.
type RelayOptions struct {
	// Namespaces keeps flows whose source or destination pod is in one of
	// them (a server-side filter); empty keeps all.
	Namespaces []string
	// Verdicts keeps flows with one of these verdicts (server-side); empty
	// keeps all. FlowVerdictUnknown is ignored.
	Verdicts []netpol.FlowVerdict
	// TLS, when not nil, connects with TLS; nil is plaintext.
	TLS *TLSOptions
	// Since, when not zero, asks for the flows since then that the Hubble
	// buffers still hold, before following new ones.
	Since time.Time
	// Duration, when positive, ends Run (without error) that long after it
	// started.
	Duration time.Duration
	// Backoff is the first wait before reconnecting (default 1s); it
	// doubles after each failed attempt up to MaxBackoff (default 1m), and
	// starts over once a stream delivered something.
	Backoff, MaxBackoff time.Duration
	// MaxRetries, when positive, ends Run with the last error after that
	// many reconnections in a row that delivered nothing.
	MaxRetries int
	// Logger receives reconnections and rejected flows; nil discards them.
	Logger *slog.Logger
}

// NewRelaySource returns a live source: it follows Observer.GetFlows of a
// Hubble Relay (or of one agent's Hubble server) at addr ("host:port"),
// with the namespace and verdict filters applied by the server.
//
// When the stream breaks, Run reconnects after a backoff and resumes with
// since set to the time of the last flow it saw; flows at that exact time
// that were already delivered are dropped, so nothing is lost or repeated
// at the boundary. Errors that retrying cannot fix end Run: a failed TLS
// handshake (wrong CA or server name), Unauthenticated, PermissionDenied,
// InvalidArgument, Unimplemented.
//
// Run returns nil after Duration, ctx's error when ctx is done first, and
// emit's error when emit fails. Lost events and node status records are
// counted in Stats().Skipped; flows that do not convert (bad addresses) in
// Rejected, with "addr: message" in Problems.
func NewRelaySource(addr string, opts RelayOptions) netpol.FlowSource {
	return &relaySource{addr: addr, opts: opts}
}

// relaySource implements NewRelaySource.
type relaySource struct {
	addr string
	opts RelayOptions
	c    counters
}

// Stats returns what was received so far; it may be called during Run.
func (s *relaySource) Stats() netpol.SourceStats { return s.c.stats() }

// errDurationElapsed is the context cause when RelayOptions.Duration ends.
var errDurationElapsed = errors.New("duration elapsed")

// emitError carries emit's error through the stream loop.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }

// Run follows the flows; see NewRelaySource.
func (s *relaySource) Run(ctx context.Context, emit func(*netpol.Flow) error) error {
	if s.opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, s.opts.Duration, errDurationElapsed)
		defer cancel()
	}
	creds := insecure.NewCredentials()
	if s.opts.TLS != nil {
		cfg, err := s.opts.TLS.config()
		if err != nil {
			return fmt.Errorf("hubble relay %q: %w", s.addr, err)
		}
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return fmt.Errorf("hubble relay %q: %w", s.addr, err)
	}
	defer conn.Close()
	return s.follow(ctx, observerpb.NewObserverClient(conn), emit)
}

// follow runs streams until the end, reconnecting with backoff.
func (s *relaySource) follow(ctx context.Context, client observerpb.ObserverClient, emit func(*netpol.Flow) error) error {
	log := s.opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st := &streamState{since: s.opts.Since}
	backoff, failures := s.backoff(0), 0
	for {
		got, err := s.stream(ctx, client, st, emit)
		if ctx.Err() != nil {
			if context.Cause(ctx) == errDurationElapsed {
				return nil
			}
			return ctx.Err()
		}
		var ee emitError
		if errors.As(err, &ee) {
			return ee.err
		}
		if perr := s.permanent(err); perr != nil {
			return perr
		}
		if got > 0 {
			backoff, failures = s.backoff(0), 0
		}
		failures++
		if s.opts.MaxRetries > 0 && failures > s.opts.MaxRetries {
			return fmt.Errorf("hubble relay %q: giving up after %d attempts: %w", s.addr, failures, err)
		}
		log.Warn("hubble stream ended, reconnecting", "addr", s.addr, "error", err, "backoff", backoff, "since", st.since)
		select {
		case <-ctx.Done():
			continue // reported at the top of the loop
		case <-time.After(backoff):
		}
		backoff = s.backoff(backoff)
	}
}

// backoff returns the wait after prev (0: the first wait).
func (s *relaySource) backoff(prev time.Duration) time.Duration {
	first, limit := s.opts.Backoff, s.opts.MaxBackoff
	if first <= 0 {
		first = time.Second
	}
	if limit <= 0 {
		limit = time.Minute
	}
	next := min(2*prev, limit)
	if prev == 0 {
		next = min(first, limit)
	}
	return next
}

// permanent returns the error to end Run with when err cannot be fixed by
// retrying, and nil when it can.
func (s *relaySource) permanent(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	switch st.Code() {
	case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented:
		return fmt.Errorf("hubble relay %q: %w", s.addr, err)
	case codes.Unavailable:
		if msg := st.Message(); strings.Contains(msg, "authentication handshake failed") {
			return fmt.Errorf("hubble relay %q: TLS handshake failed: %s", s.addr, msg)
		}
	}
	return nil
}

// streamState is what survives a reconnection: where to resume and which
// flows at that instant were already delivered.
type streamState struct {
	since  time.Time
	atLast []*flowpb.Flow // flows delivered with time == since
	// dedupe is set from a reconnection until a flow after since arrives.
	dedupe bool
	labels labelCache
	out    netpol.Flow
}

// stream runs one GetFlows call until it fails; got counts the records
// received.
func (s *relaySource) stream(ctx context.Context, client observerpb.ObserverClient, st *streamState, emit func(*netpol.Flow) error) (got int, err error) {
	req := &observerpb.GetFlowsRequest{Follow: true, Whitelist: s.filters(), Since: resumeTime(st.since)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.GetFlows(ctx, req)
	if err != nil {
		return 0, err
	}
	st.dedupe = len(st.atLast) > 0
	for {
		resp, err := stream.Recv()
		if err != nil {
			if err == io.EOF {
				err = errors.New("stream closed by the server")
			}
			return got, err
		}
		got++
		if err := s.receive(resp, st, emit); err != nil {
			return got, emitError{err}
		}
	}
}

// receive handles one response.
func (s *relaySource) receive(resp *observerpb.GetFlowsResponse, st *streamState, emit func(*netpol.Flow) error) error {
	switch r := resp.GetResponseTypes().(type) {
	case *observerpb.GetFlowsResponse_LostEvents:
		s.c.count(recLostEvents)
		return nil
	case *observerpb.GetFlowsResponse_NodeStatus:
		s.c.count(recNodeStatus)
		return nil
	case *observerpb.GetFlowsResponse_Flow:
		if !st.track(r.Flow, resp.GetTime()) {
			return nil
		}
		kind, err := convertFlow(r.Flow, resp.GetNodeName(), resp.GetTime(), &st.out, &st.labels)
		if err != nil {
			s.c.reject(fmt.Sprintf("%s: %v", s.addr, err))
			if s.opts.Logger != nil {
				s.opts.Logger.Warn("rejected hubble flow", "addr", s.addr, "error", err)
			}
			return nil
		}
		s.c.count(kind)
		if kind == recFlow {
			return emit(&st.out)
		}
	}
	return nil
}
