// Command enforcer is the lab's NetworkPolicy dataplane: it reads the first
// packet of each new connection from an NFQUEUE, asks kube-network-policies'
// policy engine (fed by informers on a real kube-apiserver) for a verdict and
// returns ACCEPT or DROP. It fails closed: a packet it cannot parse or
// evaluate is dropped, and without it running the queue drops everything.
//
// It logs one line per verdict and one per watched API event to stderr:
//
//	12:00:01.002345 verdict=DROP proto=TCP src=10.88.7.12:46742 dst=10.88.7.21:80 eval=18µs
//	12:00:00.101234 event=ADD kind=NetworkPolicy key=y/allow rv=224
//
// so a harness can wait until the enforcer has seen a resourceVersion before
// probing.
//
// netpol's own simulator must never import kube-network-policies; this
// program lives in its own module (test/lab) for that reason.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/florianl/go-nfqueue/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kube-network-policies/pkg/api"
	"sigs.k8s.io/kube-network-policies/pkg/network"
	"sigs.k8s.io/kube-network-policies/pkg/networkpolicy"
	"sigs.k8s.io/kube-network-policies/pkg/podinfo"
)

// options are the command-line flags.
type options struct {
	kubeconfig string
	queue      uint
	netns      string
	readyFile  string
	nodeName   string
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the API server to watch")
	flag.UintVar(&o.queue, "queue", 100, "NFQUEUE number to read")
	flag.StringVar(&o.netns, "netns", "", "network namespace file (e.g. /run/netns/NAME) whose queue to bind; empty: the current one")
	flag.StringVar(&o.readyFile, "ready-file", "", "file written once the caches are synced and the queue is bound")
	flag.StringVar(&o.nodeName, "node-name", "lab-node", "node name given to the engine (it does not affect verdicts)")
	flag.Parse()

	logger := log.New(os.Stderr, "", log.Ltime|log.Lmicroseconds)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, logger); err != nil {
		logger.Printf("error: %v", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, logger *log.Logger) error {
	if o.queue > 65535 {
		return fmt.Errorf("queue %d out of range (0-65535)", o.queue)
	}
	engine, err := startEngine(ctx, o, logger)
	if err != nil {
		return err
	}
	nf, err := openQueue(uint16(o.queue), o.netns, logger)
	if err != nil {
		return err
	}
	defer nf.Close()
	// Report a full socket buffer instead of losing packets silently, and
	// make it large enough for a burst of a full queue (the default
	// rmem_default, about 200 KiB, holds a few hundred queued packets; a
	// packet the kernel cannot deliver is dropped, falsely).
	if err := nf.SetOption(netlink.NoENOBUFS, false); err != nil {
		return fmt.Errorf("setting NETLINK_NO_ENOBUFS: %w", err)
	}
	if err := forceReadBuffer(nf.Con, queueReadBuffer); err != nil {
		return err
	}

	hook := func(a nfqueue.Attribute) int {
		if a.PacketID == nil {
			return 0
		}
		verdict := nfqueue.NfDrop // fail closed
		if a.Payload == nil {
			logger.Printf("verdict=DROP reason=%q", "no payload")
		} else if pkt, err := network.ParsePacket(*a.Payload); err != nil {
			logger.Printf("verdict=DROP reason=%q", "parse: "+err.Error())
		} else {
			start := time.Now()
			ok, err := engine.EvaluatePacket(ctx, &pkt)
			took := time.Since(start)
			switch {
			case err != nil:
				logger.Printf("verdict=DROP proto=%s src=%s dst=%s reason=%q", pkt.Proto, hostPort(pkt.SrcIP.String(), pkt.SrcPort), hostPort(pkt.DstIP.String(), pkt.DstPort), "evaluate: "+err.Error())
			case ok:
				verdict = nfqueue.NfAccept
				logger.Printf("verdict=ACCEPT proto=%s src=%s dst=%s eval=%s", pkt.Proto, hostPort(pkt.SrcIP.String(), pkt.SrcPort), hostPort(pkt.DstIP.String(), pkt.DstPort), took)
			default:
				logger.Printf("verdict=DROP proto=%s src=%s dst=%s eval=%s", pkt.Proto, hostPort(pkt.SrcIP.String(), pkt.SrcPort), hostPort(pkt.DstIP.String(), pkt.DstPort), took)
			}
		}
		if err := nf.SetVerdict(*a.PacketID, verdict); err != nil {
			logger.Printf("error: set verdict of packet %d: %v", *a.PacketID, err)
		}
		return 0
	}
	// Keep receiving whatever the error, as kube-network-policies does: a
	// receive error (such as a full socket buffer) means the kernel dropped
	// the packets it could not deliver (fail closed); stopping would drop
	// every later connection too.
	errfn := func(err error) int {
		var opErr interface{ Timeout() bool }
		if errors.As(err, &opErr) && opErr.Timeout() {
			return 0
		}
		logger.Printf("error: nfqueue receive: %v", err)
		return 0
	}
	if err := nf.RegisterWithErrorFunc(ctx, hook, errfn); err != nil {
		return fmt.Errorf("registering nfqueue %d: %w", o.queue, err)
	}
	logger.Printf("ready queue=%d netns=%q", o.queue, o.netns)
	if o.readyFile != "" {
		if err := os.WriteFile(o.readyFile, []byte("ready\n"), 0o644); err != nil {
			return fmt.Errorf("writing ready file: %w", err)
		}
	}
	<-ctx.Done()
	logger.Printf("stopping")
	return nil
}

// openQueue binds NFQUEUE number queue, in the network namespace at path
// netns when it is not empty. No fail-open flag is set: when the queue is
// full or nobody listens, the kernel drops.
func openQueue(queue uint16, netns string, logger *log.Logger) (*nfqueue.Nfqueue, error) {
	cfg := nfqueue.Config{
		Logger:       queueLogger{logger},
		NfQueue:      queue,
		MaxPacketLen: 128,  // the IP and L4 headers are enough
		MaxQueueLen:  4096, // a whole probe matrix in flight (13 x 95 connections)
		Copymode:     nfqueue.NfQnlCopyPacket,
		WriteTimeout: 100 * time.Millisecond,
	}
	if netns != "" {
		f, err := os.Open(netns)
		if err != nil {
			return nil, fmt.Errorf("opening network namespace: %w", err)
		}
		// The socket keeps its namespace once created, so the file can be
		// closed right after Open.
		defer f.Close()
		cfg.NetNS = int(f.Fd())
	}
	nf, err := nfqueue.Open(&cfg)
	if err != nil {
		return nil, fmt.Errorf("opening nfqueue %d: %w", queue, err)
	}
	return nf, nil
}

// startEngine builds kube-network-policies' engine as its standard command
// does (informers, pod IP resolver, StandardNetworkPolicy evaluator), minus
// NRI and the nftables dataplane, and waits for the caches to sync.
func startEngine(ctx context.Context, o options, logger *log.Logger) (*networkpolicy.PolicyEngine, error) {
	if o.kubeconfig == "" {
		return nil, errors.New("no kubeconfig: pass --kubeconfig or set KUBECONFIG")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %q: %w", o.kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating client: %w", err)
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	nsInformer := factory.Core().V1().Namespaces()
	npInformer := factory.Networking().V1().NetworkPolicies()
	podInformer := factory.Core().V1().Pods()
	if err := podInformer.Informer().SetTransform(func(obj any) (any, error) {
		if accessor, err := meta.Accessor(obj); err == nil {
			accessor.SetManagedFields(nil)
		}
		return obj, nil
	}); err != nil {
		return nil, fmt.Errorf("setting pod transform: %w", err)
	}
	resolver, err := podinfo.NewInformerResolver(podInformer.Informer())
	if err != nil {
		return nil, fmt.Errorf("creating pod IP resolver: %w", err)
	}
	provider := podinfo.NewInformerProvider(podInformer, nsInformer, nil, []podinfo.IPResolver{resolver})
	std := networkpolicy.NewStandardNetworkPolicy(o.nodeName, nsInformer, podInformer, npInformer)

	// An informer updates its store before it calls handlers, so a logged
	// event means the engine's listers already see the object.
	for kind, inf := range map[string]cache.SharedIndexInformer{
		"Namespace":     nsInformer.Informer(),
		"Pod":           podInformer.Informer(),
		"NetworkPolicy": npInformer.Informer(),
	} {
		if _, err := inf.AddEventHandler(eventLogger(kind, logger)); err != nil {
			return nil, fmt.Errorf("adding %s event handler: %w", kind, err)
		}
	}

	factory.Start(ctx.Done())
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	if !std.Ready() {
		return nil, errors.New("the StandardNetworkPolicy evaluator is not ready after sync")
	}
	return networkpolicy.NewPolicyEngine(provider, []api.PolicyEvaluator{std}), nil
}

// eventLogger logs `event=ADD|UPDATE|DELETE kind=K key=ns/name rv=N` lines.
func eventLogger(kind string, logger *log.Logger) cache.ResourceEventHandlerFuncs {
	logf := func(event string, obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		accessor, err := meta.Accessor(obj)
		if err != nil {
			return
		}
		key := accessor.GetName()
		if ns := accessor.GetNamespace(); ns != "" {
			key = ns + "/" + key
		}
		logger.Printf("event=%s kind=%s key=%s rv=%s", event, kind, key, accessor.GetResourceVersion())
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { logf("ADD", obj) },
		UpdateFunc: func(_, obj any) { logf("UPDATE", obj) },
		DeleteFunc: func(obj any) { logf("DELETE", obj) },
	}
}

// queueReadBuffer is the receive buffer of the queue's socket.
const queueReadBuffer = 8 << 20

// forceReadBuffer sets the socket's receive buffer with SO_RCVBUFFORCE,
// which, unlike SO_RCVBUF, is not capped by net.core.rmem_max (it needs
// CAP_NET_ADMIN, which the enforcer has anyway).
func forceReadBuffer(c *netlink.Conn, size int) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("reaching the queue's socket: %w", err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size)
	}); err != nil {
		return fmt.Errorf("reaching the queue's socket: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("setting the queue's receive buffer to %d bytes: %w", size, serr)
	}
	return nil
}

// queueLogger passes go-nfqueue's errors to the log (its debug messages
// are dropped).
type queueLogger struct{ l *log.Logger }

func (q queueLogger) Debugf(string, ...any) {}
func (q queueLogger) Errorf(format string, args ...any) {
	q.l.Printf("error: nfqueue: "+format, args...)
}

// hostPort formats an address and port as host:port.
func hostPort(host string, port int) string {
	return fmt.Sprintf("%s:%d", host, port)
}
