// Command pluginbench measures the Go side of the benchmarks that
// tools/bench/run.py drives, and prints each measurement as one JSON line
// of raw latencies, which run.py turns into percentiles and ratios.
//
// Subcommands:
//
//	grpc-client  a Go gRPC client calling a pluginapi-server (KVGet, GetUser)
//	netrpc       a Go plugin over hashicorp/go-plugin's net/rpc, as Go
//	             plugins are served today: its API calls to the host, the
//	             host's MessageWillBePosted calls to it, and the same work as
//	             a direct in-process call (-measure picks the API calls, the
//	             hooks, or both)
//	hooks        the hooks client calling a Python plugin's
//	             MessageWillBePosted under the supervisor, and its start
//	             times
//	floor        the physical floor of a Python↔Go call: length-prefixed
//	             protobuf on a unix socket, served until stdin closes
//	plugin       the net/rpc plugin process that netrpc starts (internal)
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sample is one measurement: the latency of every call, in nanoseconds,
// and the wall time of the whole run.
type sample struct {
	Name        string  `json:"name"`
	Concurrency int     `json:"concurrency"`
	LatenciesNS []int64 `json:"latencies_ns"`
	ElapsedNS   int64   `json:"elapsed_ns"`
	// Extra holds figures that are not latencies (start times, in ns).
	Extra map[string]int64 `json:"extra,omitempty"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pluginbench grpc-client|netrpc|hooks|floor|plugin [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "grpc-client":
		err = runGRPCClient(os.Args[2:], os.Stdout)
	case "netrpc":
		err = runNetRPC(os.Args[2:], os.Stdout)
	case "hooks":
		err = runHooks(os.Args[2:], os.Stdout)
	case "floor":
		err = runFloor(os.Args[2:], os.Stdout)
	case "plugin":
		servePlugin()
		return
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pluginbench:", err)
		os.Exit(1)
	}
}

// measure runs calls calls of call over concurrency goroutines, after
// warmup calls, and returns every call's latency.
func measure(name string, calls, concurrency, warmup int, call func() error) (sample, error) {
	for range warmup {
		if err := call(); err != nil {
			return sample{}, fmt.Errorf("%s warmup: %w", name, err)
		}
	}
	lat := make([]int64, calls)
	var next atomic.Int64
	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(calls); i = next.Add(1) - 1 {
				t := time.Now()
				err := call()
				lat[i] = int64(time.Since(t))
				if err != nil {
					errs[g] = err
					next.Store(int64(calls)) // the others stop too
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return sample{}, fmt.Errorf("%s: %w", name, err)
	}
	return sample{Name: name, Concurrency: concurrency, LatenciesNS: lat, ElapsedNS: int64(time.Since(start))}, nil
}

// emit writes s as one JSON line.
func emit(w io.Writer, s sample) error {
	line, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}

// commonFlags are the flags every measuring subcommand takes.
type commonFlags struct {
	calls, warmup int
	concurrency   intList
	cpuProfile    string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&c.calls, "calls", 2000, "calls per measurement")
	fs.IntVar(&c.warmup, "warmup", 200, "calls before measuring")
	c.concurrency = intList{1}
	fs.Var(&c.concurrency, "concurrency", "calls in flight, comma-separated (default 1)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a pprof CPU profile of this process to the file")
}

// parse parses args into fs and starts the CPU profile that -cpuprofile
// asks for; the returned function stops it and closes the file.
func (c *commonFlags) parse(fs *flag.FlagSet, args []string) (stop func(), err error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(c.cpuProfile)
	if err != nil {
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// intList is a comma-separated list of positive integers.
type intList []int

func (l *intList) String() string { return fmt.Sprint(*l) }

// Set parses the list.
func (l *intList) Set(v string) error {
	var out intList
	for _, f := range strings.Split(v, ",") {
		var n int
		if _, err := fmt.Sscanf(f, "%d", &n); err != nil || n < 1 {
			return fmt.Errorf("want positive integers, got %q", f)
		}
		out = append(out, n)
	}
	*l = out
	return nil
}
