package hubble

import (
	"context"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	observerpb "github.com/cilium/cilium/api/v1/observer"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/netpol/netpol"
)

// replayFlows returns the recorded flows of the good fixtures in time
// order.
func replayFlows(t testing.TB) []*observerpb.GetFlowsResponse {
	t.Helper()
	recs := recordedFlows(t, "hubble-10-flows", "hubble-5-dns-flows", "hubble-5-http-flows",
		"replies", "drops", "dns", "ipv6", "reserved")
	sortByTime(recs)
	return recs
}

// fastRetry makes reconnections quick in tests.
func fastRetry(o RelayOptions) RelayOptions {
	o.Backoff, o.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	return o
}

func TestRelayReplay(t *testing.T) {
	recs := replayFlows(t)
	want := expectedFlows(t, recs)
	srv := &replayServer{flows: recs}
	src := NewRelaySource(startServer(t, srv), fastRetry(RelayOptions{}))
	got, err := collect(t, src, len(want))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	reqs := srv.received()
	if len(reqs) != 1 || !reqs[0].GetFollow() || reqs[0].GetSince() != nil || reqs[0].GetWhitelist() != nil {
		t.Errorf("requests = %v, want one with follow and nothing else", reqs)
	}
	if st := src.Stats(); st.Flows != int64(len(want)) || st.Rejected != 0 {
		t.Errorf("stats = %+v, want %d flows", st, len(want))
	}
}

// TestRelayReconnect drops the stream in the middle of three flows that
// share one time: the client must resume from that time and drop the two
// it already has, losing nothing and repeating nothing.
func TestRelayReconnect(t *testing.T) {
	recs := replayFlows(t)
	const cut = 12 // flows 10, 11, 12 share a time; the stream breaks after 11
	for i := cut - 2; i <= cut; i++ {
		recs[i] = sameTime(recs[i], recs[cut-2])
	}
	want := expectedFlows(t, recs)
	srv := &replayServer{flows: recs, dropAfter: cut}
	src := NewRelaySource(startServer(t, srv), fastRetry(RelayOptions{}))
	got, err := collect(t, src, len(want))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	reqs := srv.received()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if got, want := reqs[1].GetSince().AsTime(), respTime(recs[cut-1]); !got.Equal(want) {
		t.Errorf("resumed since %v, want the last flow's time %v", got, want)
	}
}

// sameTime returns a copy of r with the time of like.
func sameTime(r, like *observerpb.GetFlowsResponse) *observerpb.GetFlowsResponse {
	r = cloneResp(r)
	ts := timestamppb.New(respTime(like))
	r.Time = ts
	r.GetFlow().Time = ts
	return r
}

func TestRelaySlowServer(t *testing.T) {
	recs := replayFlows(t)[:8]
	want := expectedFlows(t, recs)
	srv := &replayServer{flows: recs, delay: 30 * time.Millisecond}
	got, err := collect(t, NewRelaySource(startServer(t, srv), fastRetry(RelayOptions{})), len(want))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	if n := len(srv.received()); n != 1 {
		t.Errorf("%d requests, want 1 (a slow stream is not a broken one)", n)
	}
}

func TestRelayDuration(t *testing.T) {
	srv := &replayServer{flows: replayFlows(t), delay: 100 * time.Millisecond}
	src := NewRelaySource(startServer(t, srv), RelayOptions{Duration: 350 * time.Millisecond})
	start := time.Now()
	n := 0
	err := src.Run(context.Background(), func(*netpol.Flow) error { n++; return nil })
	if err != nil {
		t.Errorf("Run after Duration = %v, want nil", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v with Duration 350ms", d)
	}
	if n == 0 || n >= len(srv.flows) {
		t.Errorf("%d flows delivered, want some but not all %d", n, len(srv.flows))
	}
}

func TestRelayCancel(t *testing.T) {
	srv := &replayServer{flows: replayFlows(t)}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := NewRelaySource(startServer(t, srv), RelayOptions{}).Run(ctx, func(*netpol.Flow) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if err != context.Canceled {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

func TestRelayFilters(t *testing.T) {
	since := time.Date(2020, 3, 1, 10, 0, 0, 0, time.UTC)
	verdicts := []flowpb.Verdict{flowpb.Verdict_DROPPED, flowpb.Verdict_FORWARDED}
	for _, tc := range []struct {
		name string
		opts RelayOptions
		want []*flowpb.FlowFilter
	}{
		{"none", RelayOptions{}, nil},
		{"namespaces", RelayOptions{Namespaces: []string{"shop", "billing"}}, []*flowpb.FlowFilter{
			{SourcePod: []string{"shop/", "billing/"}}, {DestinationPod: []string{"shop/", "billing/"}}}},
		{"verdicts", RelayOptions{Verdicts: []netpol.FlowVerdict{netpol.Dropped, netpol.Forwarded, netpol.Dropped, netpol.FlowVerdictUnknown}},
			[]*flowpb.FlowFilter{{Verdict: verdicts}}},
		{"both", RelayOptions{Namespaces: []string{"shop"}, Verdicts: []netpol.FlowVerdict{netpol.Dropped, netpol.Forwarded}, Since: since},
			[]*flowpb.FlowFilter{{SourcePod: []string{"shop/"}, Verdict: verdicts}, {DestinationPod: []string{"shop/"}, Verdict: verdicts}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &replayServer{flows: replayFlows(t)[:1]}
			if _, err := collect(t, NewRelaySource(startServer(t, srv), tc.opts), 1); err != nil {
				t.Fatalf("Run: %v", err)
			}
			reqs := srv.received()
			want := &observerpb.GetFlowsRequest{Follow: true, Whitelist: tc.want}
			if !tc.opts.Since.IsZero() {
				want.Since = timestamppb.New(tc.opts.Since)
			}
			if diff := cmp.Diff([]*observerpb.GetFlowsRequest{want}, reqs, protocmp.Transform()); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRelayUnreachable(t *testing.T) {
	src := NewRelaySource("127.0.0.1:1", fastRetry(RelayOptions{MaxRetries: 2}))
	err := src.Run(context.Background(), func(*netpol.Flow) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Errorf("Run = %v, want giving up after 3 attempts", err)
	}
}

func TestRelayEmitError(t *testing.T) {
	srv := &replayServer{flows: replayFlows(t)}
	stop := errStop("enough")
	err := NewRelaySource(startServer(t, srv), RelayOptions{}).Run(context.Background(), func(*netpol.Flow) error { return stop })
	if err != stop {
		t.Errorf("Run = %v, want emit's error", err)
	}
}

type errStop string

func (e errStop) Error() string { return string(e) }

func TestRelayCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := NewRelaySource("127.0.0.1:1", RelayOptions{Backoff: time.Minute}).Run(ctx, func(*netpol.Flow) error { return nil })
	if err != context.DeadlineExceeded || time.Since(start) > 10*time.Second {
		t.Errorf("Run = %v after %v, want context.DeadlineExceeded soon", err, time.Since(start))
	}
}
