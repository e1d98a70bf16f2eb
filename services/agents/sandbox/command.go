package sandbox

import "strings"

// CommandLine is how a StepResult or FetchResult shows what ran: the commands as a person would
// type them in dir (relative to the tree's root), "cd backend && go build ./...".
func CommandLine(dir string, commands ...[]string) string {
	lines := make([]string, len(commands))
	for i, argv := range commands {
		words := make([]string, len(argv))
		for j, a := range argv {
			words[j] = shellQuote(a)
		}
		lines[i] = strings.Join(words, " ")
	}
	cmd := strings.Join(lines, " && ")
	if dir == "" || dir == "." {
		return cmd
	}
	return "cd " + shellQuote(dir) + " && " + cmd
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@+,%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
