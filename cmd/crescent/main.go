// Command crescent runs the Crescent server. It takes redis-server's
// arguments: an optional config file path, then --directive value flags.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"

	"github.com/crescent-db/crescent/internal/config"
	"github.com/crescent-db/crescent/internal/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "crescent: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	// CRESCENT_CPUPROFILE=file profiles the whole run (for performance work).
	if path := os.Getenv("CRESCENT_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	// CRESCENT_MEMPROFILE=file writes the allocations of the whole run
	// (every 4 KiB allocated sampled, not Go's 512 KiB) at a clean
	// shutdown: go tool pprof -sample_index=alloc_space.
	if path := os.Getenv("CRESCENT_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 4096
		defer func() {
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "crescent: memory profile: %v\n", err)
			}
		}()
	}
	// CRESCENT_TRACE=file writes a runtime/trace of the whole run (tail
	// latency work: go tool trace -pprof=sync|sched file).
	if path := os.Getenv("CRESCENT_TRACE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		if err := trace.Start(f); err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		defer trace.Stop()
	}
	cfg := config.New()
	server.DeclareProcessConfig(cfg) // adaptive-procs on: this process is the server's
	server.DeclareConfig(cfg)        // metrics-port, log-format
	fileText, cfgFile := "", ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		switch args[0] {
		case "-v", "--version":
			fmt.Println("Crescent server v=0.1.0 (Redis 7.0 compatible)")
			return nil
		}
		b, err := os.ReadFile(args[0])
		if err != nil {
			return fmt.Errorf("reading config file: %w", err)
		}
		fileText = string(b)
		cfgFile, _ = filepath.Abs(args[0])
		args = args[1:]
	}
	if err := cfg.Load(fileText, args); err != nil {
		return fmt.Errorf("*** FATAL CONFIG FILE ERROR ***\n%w", err)
	}
	if err := os.MkdirAll(cfg.Get("dir"), 0o755); err != nil {
		return fmt.Errorf("dir %s: %w", cfg.Get("dir"), err)
	}
	if err := os.Chdir(cfg.Get("dir")); err != nil {
		return fmt.Errorf("can't chdir to %s: %w", cfg.Get("dir"), err)
	}
	var out io.Writer = os.Stderr
	if lf := cfg.Get("logfile"); lf != "" {
		f, err := os.OpenFile(lf, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("can't open the log file: %w", err)
		}
		defer f.Close()
		out = f
		// a crash report (a panic, a fatal error, the goroutine dump of
		// SIGABRT or SIGQUIT) goes to the log file too, where a user
		// looks for it, as Redis writes its crash report to its log
		// unless crash-log-enabled is no (read at startup only)
		if cfg.Bool("crash-log-enabled") {
			if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
				return fmt.Errorf("crash output to the log file: %w", err)
			}
		}
	}
	level := slog.LevelInfo
	switch cfg.Get("loglevel") {
	case "debug":
		level = slog.LevelDebug
	case "warning":
		level = slog.LevelWarn
	}
	logger, err := newLogger(cfg.Get("log-format"), out, level)
	if err != nil {
		return err
	}
	// A file past RLIMIT_FSIZE gets EFBIG instead of killing the process:
	// the AOF writer then reports the error (MISCONF) and retries.
	signal.Ignore(syscall.SIGXFSZ)
	srv, err := server.New(cfg, logger, cfgFile)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			name := "SIGTERM"
			if sig == syscall.SIGINT {
				name = "SIGINT"
				// a second SIGINT while the first waits for replicas:
				// the user wants out now (as Redis, exit status 1)
				if srv.ShutdownPending() {
					logger.Warn("You insist... exiting now.")
					os.Exit(1)
				}
			}
			if !srv.SignalShutdown(name) {
				logger.Warn(name + " received but errors trying to shut down the server, check the logs for more information")
			}
		}
	}()
	return srv.Run(context.Background())
}

// newLogger selects slog's handler by log-format: text (default) or json.
func newLogger(format string, out io.Writer, level slog.Level) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(format) {
	case "", "text":
		return slog.New(slog.NewTextHandler(out, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(out, opts)), nil
	}
	return nil, fmt.Errorf("*** FATAL CONFIG FILE ERROR ***\nlog-format must be text or json, not %q", format)
}
