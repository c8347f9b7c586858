package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/chaosd/chaosd/internal/daemon"
)

func TestOnceErrorCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "paused", err: fmt.Errorf("%w: paused with chaosd pause by alice", daemon.ErrPaused), want: exitSkipped},
		{name: "pause switch unreadable", err: fmt.Errorf("%w: read configmap chaosd/chaosd-config: 503", daemon.ErrPauseUnknown), want: exitSkipped},
		{name: "any other error", err: errors.New("load config: 1 problem(s) in config"), want: exitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := onceErrorCode(tt.err); got != tt.want {
				t.Errorf("onceErrorCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
