package logging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildColourOnlyOnATerminal: console logs carry ANSI colour codes on a
// terminal and none when redirected to a file; auto picks JSON off a terminal.
func TestBuildColourOnlyOnATerminal(t *testing.T) {
	tests := []struct {
		name      string
		format    Format
		terminal  bool
		wantColor bool
		wantJSON  bool
	}{
		{name: "console on a terminal", format: FormatConsole, terminal: true, wantColor: true},
		{name: "console to a file", format: FormatConsole, terminal: false},
		{name: "auto on a terminal", format: FormatAuto, terminal: true, wantColor: true},
		{name: "auto to a file", format: FormatAuto, terminal: false, wantJSON: true},
		{name: "json on a terminal", format: FormatJSON, terminal: true, wantJSON: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			log, err := build(tt.format, "info", tt.terminal, path)
			if err != nil {
				t.Fatal(err)
			}
			log.Warn("fault reverted")
			_ = log.Sync()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out := string(data)
			if !strings.Contains(out, "fault reverted") {
				t.Fatalf("log lacks the message: %q", out)
			}
			if got := strings.Contains(out, "\x1b["); got != tt.wantColor {
				t.Errorf("ANSI escape in %q: %v, want %v", out, got, tt.wantColor)
			}
			if got := strings.HasPrefix(out, "{"); got != tt.wantJSON {
				t.Errorf("JSON %q: %v, want %v", out, got, tt.wantJSON)
			}
		})
	}
}
