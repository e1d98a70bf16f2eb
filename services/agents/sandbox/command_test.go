package sandbox

import "testing"

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		dir      string
		commands [][]string
		want     string
	}{
		{"", [][]string{{"go", "test", "./..."}}, "go test ./..."},
		{"backend", [][]string{{"go", "vet", "./..."}}, "cd backend && go vet ./..."},
		{".", [][]string{{"sh", "-c", "echo 'hi' && exit 1"}}, `sh -c 'echo '\''hi'\'' && exit 1'`},
		{"web", [][]string{{"npm", "run", ""}}, "cd web && npm run ''"},
		{"my web", [][]string{{"npm", "install"}, {"npm", "ci"}}, "cd 'my web' && npm install && npm ci"},
	} {
		if got := CommandLine(tc.dir, tc.commands...); got != tc.want {
			t.Errorf("CommandLine(%q, %q) = %s, want %s", tc.dir, tc.commands, got, tc.want)
		}
	}
}
