package memlimit

import "testing"

func TestCompute(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Decision
		wantErr bool
	}{
		{name: "nothing set", want: Decision{}},
		{name: "chart default: 128Mi at the default ratio",
			env:  map[string]string{EnvLimit: "134217728"},
			want: Decision{Limit: 80530636, Source: EnvLimit, ContainerLimit: 134217728, Ratio: DefaultRatio}},
		{name: "ratio from the chart",
			env:  map[string]string{EnvLimit: "268435456", EnvRatio: "0.75"},
			want: Decision{Limit: 201326592, Source: EnvLimit, ContainerLimit: 268435456, Ratio: 0.75}},
		{name: "explicit GOMEMLIMIT wins",
			env:  map[string]string{EnvGo: "48MiB", EnvLimit: "134217728"},
			want: Decision{Source: EnvGo}},
		{name: "limit with a unit is refused", env: map[string]string{EnvLimit: "128Mi"}, wantErr: true},
		{name: "zero limit is refused", env: map[string]string{EnvLimit: "0"}, wantErr: true},
		{name: "ratio above 1 is refused", env: map[string]string{EnvLimit: "134217728", EnvRatio: "1.5"}, wantErr: true},
		{name: "ratio 0 is refused", env: map[string]string{EnvLimit: "134217728", EnvRatio: "0"}, wantErr: true},
		{name: "ratio NaN is refused", env: map[string]string{EnvLimit: "134217728", EnvRatio: "NaN"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compute(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Compute = %+v, want %+v", got, tt.want)
			}
		})
	}
}
