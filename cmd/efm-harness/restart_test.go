package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// --ip-restart-cmd (or EFM_IP_RESTART_CMD) becomes a restart that runs the command with sh -c and fails
// when the command does.
func TestIPRestartCmd(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{"flag", []string{"--ip-restart-cmd", "echo restarted"}, nil, "restarted\n", false},
		{"environment", nil, map[string]string{"EFM_IP_RESTART_CMD": "echo from env"}, "from env\n", false},
		{"failing command", []string{"--ip-restart-cmd", "echo no; exit 3"}, nil, "no\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadTest(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = shellRestart(cfg.IPRestartCmd, &out)(context.Background())
			if (err != nil) != tt.wantErr || out.String() != tt.want {
				t.Errorf("restart: output %q, error %v; want %q and an error: %v", out.String(), err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "--ip-restart-cmd") {
				t.Errorf("error %q does not name the flag", err)
			}
		})
	}
}
