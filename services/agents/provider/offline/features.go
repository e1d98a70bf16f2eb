package offline

import (
	"regexp"
	"strings"
)

// feature is one capability of the project, read from the description or from an earlier
// document: who (actor) can do what (action, a verb phrase starting with its base verb).
type feature struct {
	actor  string // e.g. "home cooks"; "" for the project's users in general
	action string // e.g. "publish recipes"; a whole sentence when phrase is false
	phrase bool   // action is a verb phrase (otherwise a statement that names no action)
}

// text is the feature as one requirement sentence, e.g. "Home cooks can publish recipes". It is
// also what parseFeatures reads back, so the features survive a trip through a document.
func (f feature) text() string {
	switch {
	case !f.phrase:
		return upperFirst(f.action)
	case f.actor == "":
		return "Users can " + f.action
	}
	return upperFirst(f.actor) + " can " + f.action
}

// title is the feature as a short heading, e.g. "Publish recipes".
func (f feature) title() string { return upperFirst(oneLine(f.action, 90)) }

// persona is the singular actor for a user story, e.g. "home cook".
func (f feature) persona() string {
	ws := strings.Fields(strings.ToLower(f.actor))
	if len(ws) == 0 || ws[len(ws)-1] == "system" {
		return "user"
	}
	ws[len(ws)-1] = singular(ws[len(ws)-1])
	return strings.Join(ws, " ")
}

// want is what the persona wants, for "As a …, I want …".
func (f feature) want(project string) string {
	if f.phrase {
		return "to " + f.action
	}
	return project + " to offer this: " + lowerFirst(f.action)
}

// verb is the feature's action verb, "" for a statement.
func (f feature) verb() string {
	if ws := words(f.action); f.phrase && len(ws) > 0 {
		return baseVerb(ws[0])
	}
	return ""
}

// reads reports whether the feature only shows things (search, view, export), changing nothing.
func (f feature) reads() bool { return benefitFind[f.verb()] || benefitOut[f.verb()] }

const maxFeatures = 12

var (
	modals      = set("can", "should", "could", "will", "must", "may", "shall")
	modalPhrase = []string{"be able to", "are able to", "is able to", "able to", "need to", "needs to", "want to",
		"wants to", "get to", "have to", "has to"}
	// subjectStop ends the noun phrase read backwards from a modal: "an app where users can".
	subjectStop = set("where", "that", "which", "who", "so", "and", "or", "then", "when", "if", "but", "i", "we",
		"you", "want", "need", "like", "app", "application", "tool", "platform", "system", "website", "site", "for",
		"with", "also")
	selfSubjects = set("i", "we", "you", "they", "people", "anyone", "everyone")
	systemWords  = set("it", "app", "application", "system", "platform", "tool", "service", "website", "site")
	adverbs      = set("also", "easily", "quickly", "then", "still", "always", "optionally", "securely", "instantly")
)

// parseFeatures reads the features of prose: each sentence's subject and modal ("Home cooks can
// …"), or an imperative ("Track expenses …"), or a subject and a present-tense verb ("Managers
// see …"); a list of actions is split at the commas and "and"s that precede a verb. Prose with
// no recognisable action gives one statement feature per sentence instead.
func parseFeatures(text string) []feature {
	var out, statements []feature
	seen := map[string]bool{}
	for _, s := range sentences(text) {
		fs := parseSentence(s)
		if len(fs) == 0 {
			statements = append(statements, feature{action: oneLine(strings.TrimRight(s, ".!?;:"), 160)})
		}
		for _, f := range fs {
			if k := strings.ToLower(f.action); !seen[k] {
				seen[k] = true
				out = append(out, f)
			}
		}
	}
	if len(out) == 0 {
		out = statements
	}
	return out[:min(len(out), maxFeatures)]
}

// parseSentence returns the features of one sentence.
func parseSentence(s string) []feature {
	tokens := strings.Fields(strings.TrimRight(s, ".!?;:"))
	lower := make([]string, len(tokens))
	for i, t := range tokens {
		lower[i] = strings.ToLower(strings.Trim(t, `,"'()“”`))
	}
	actor, start, form := findAction(tokens, lower)
	if start < 0 {
		return nil
	}
	for start < len(lower) && adverbs[lower[start]] {
		start++
	}
	if start >= len(lower) || isVerb(lower[start]) == notVerb {
		return nil
	}
	var out []feature
	for _, clause := range splitActions(tokens[start:], lower[start:], form) {
		out = append(out, feature{actor: actor, action: oneLine(thirdPersonPossessive(clause), 140), phrase: true})
	}
	return out
}

var enablers = set("let", "lets", "help", "helps", "allow", "allows", "enable", "enables")

// findAction finds who acts in a sentence and where the action's verb is, trying the ways
// products are described, most explicit first: "home cooks can share", "lets home cooks share",
// "Share recipes" (or "Shares recipes", said of the product), "managers see", "an app to
// share". start is -1 when the sentence names no action.
func findAction(tokens, lower []string) (actor string, start int, form verbForm) {
	if i, n := findModal(lower); i >= 0 {
		return subjectBefore(tokens, lower, i), i + n, baseForm
	}
	for i, w := range lower {
		if !enablers[w] {
			continue
		}
		for j := i + 1; j < min(len(lower), i+5); j++ {
			if isVerb(lower[j]) == baseForm && j > i+1 {
				who := lower[i+1 : j]
				if who[len(who)-1] == "to" {
					who = who[:len(who)-1]
				}
				return subjectBefore(who, who, len(who)), j, baseForm
			}
		}
	}
	switch isVerb(lower[0]) {
	case baseForm:
		return "", 0, baseForm
	case sForm:
		return "the system", 0, sForm
	}
	for i := 1; i < min(len(lower), 5); i++ {
		f := isVerb(lower[i])
		followedByVerb := i+1 < len(lower) && isVerb(lower[i+1]) != notVerb
		if f != notVerb && !followedByVerb && !joiners[lower[i-1]] && !articles[lower[i-1]] {
			return subjectBefore(tokens, lower, i), i, f
		}
	}
	for i := 0; i+1 < len(lower); i++ {
		if lower[i] == "to" && isVerb(lower[i+1]) == baseForm {
			return "", i + 1, baseForm
		}
	}
	return "", -1, notVerb
}

var joiners = set("where", "that", "which", "who", "so", "and", "or", "then", "when", "if", "but", "to", "also")

var articles = set("a", "an", "the", "my", "our", "your", "their", "its", "this", "each", "every")

// findModal returns the index and length of the first modal ("can", "be able to") of a sentence.
func findModal(lower []string) (int, int) {
	for i, w := range lower {
		if modals[w] && i > 0 {
			if n := len(modalAfter(lower[i+1:])); n > 0 {
				return i, 1 + n
			}
			return i, 1
		}
		if m := modalAfter(lower[i:]); m != nil && i > 0 {
			return i, len(m)
		}
	}
	return -1, 0
}

// modalAfter returns the modal phrase ("able to") lower starts with, or nil.
func modalAfter(lower []string) []string {
	for _, p := range modalPhrase {
		ws := strings.Fields(p)
		if len(lower) >= len(ws) && strings.Join(lower[:len(ws)], " ") == p {
			return ws
		}
	}
	return nil
}

// subjectBefore reads the noun phrase that ends before index i: at most three words, stopping at
// a subjectStop word; "I", "we" and the like mean the users in general.
func subjectBefore(tokens, lower []string, i int) string {
	j := i
	for j > 0 && i-j < 3 && !subjectStop[lower[j-1]] && !strings.HasSuffix(tokens[j-1], ",") {
		j--
	}
	ws := lower[j:i]
	for len(ws) > 0 && (ws[0] == "the" || ws[0] == "a" || ws[0] == "an" || ws[0] == "all" || ws[0] == "our") {
		ws = ws[1:]
	}
	switch {
	case len(ws) == 0 && j > 0 && systemWords[lower[j-1]]:
		return "the system"
	case len(ws) == 0, len(ws) == 1 && selfSubjects[ws[0]]:
		return ""
	case len(ws) == 1 && systemWords[ws[0]]:
		return "the system"
	}
	return strings.Join(ws, " ")
}

// splitActions splits "create projects, assign tasks and comment on them" before each verb
// that follows a comma, "and" or "or"; the verbs are put in their base form.
func splitActions(tokens, lower []string, want verbForm) []string {
	var out []string
	cur := []string{baseVerb(lower[0])}
	for i := 1; i < len(tokens); i++ {
		joiner := lower[i] == "and" || lower[i] == "or" || strings.HasSuffix(tokens[i-1], ",")
		next := i
		if lower[i] == "and" || lower[i] == "or" {
			next = i + 1
		}
		if joiner && next < len(tokens) && startsAction(lower[next:], want) {
			out = append(out, strings.TrimRight(strings.Join(cur, " "), ","))
			cur = []string{baseVerb(lower[next])}
			i = next
			continue
		}
		cur = append(cur, tokens[i])
	}
	return append(out, strings.TrimRight(strings.Join(cur, " "), ","))
}

// startsAction reports whether a list item starts a new action: a verb in the sentence's form
// ("create projects and assign tasks"), or in the other form when it takes an object ("lets
// agents search tickets and suggests answers"), which "posts and comments" does not.
func startsAction(lower []string, want verbForm) bool {
	switch f := isVerb(lower[0]); {
	case f == notVerb:
		return false
	case f == want:
		return true
	default:
		return len(lower) > 1 && !phraseEnd[lower[1]]
	}
}

// featureLine finds the features an earlier document lists: requirement headings ("### FR-3:
// …", "- **FR-3** — …") and capability bullets.
var (
	requirementLine = regexp.MustCompile(`(?m)^[ \t]*(?:#{1,6}[ \t]*|[-*][ \t]*)?\**FR-?\d+\**[ \t]*[:.—–-][ \t]*(.+?)[ \t]*$`)
	bulletLine      = regexp.MustCompile(`^[ \t]*[-*][ \t]+(.+?)[ \t]*$`)
)

// featuresFromRequirements reads the FR headings of a requirements document.
func featuresFromRequirements(content string) []feature {
	var lines []string
	for _, m := range requirementLine.FindAllStringSubmatch(content, maxFeatures) {
		lines = append(lines, strings.Trim(m[1], "*_ "))
	}
	return featuresFromLines(lines)
}

// featuresFromSection reads the bullets of the section whose heading contains name.
func featuresFromSection(content, name string) []feature {
	var lines []string
	in := false
	for _, line := range strings.Split(content, "\n") {
		if strings.HasPrefix(line, "#") {
			in = strings.Contains(strings.ToLower(line), name)
			continue
		}
		if m := bulletLine.FindStringSubmatch(line); in && m != nil && len(lines) < maxFeatures {
			lines = append(lines, m[1])
		}
	}
	return featuresFromLines(lines)
}

func featuresFromLines(lines []string) []feature {
	var out []feature
	for _, l := range lines {
		l = strings.Trim(clean(l), "*_ ")
		if fs := parseSentence(l); len(fs) > 0 {
			out = append(out, fs...)
		} else if l != "" {
			out = append(out, feature{action: oneLine(l, 160)})
		}
	}
	return out
}

// thirdPersonPossessive turns an owner's "track my expenses" into "track their expenses", since
// the feature is said of the users.
func thirdPersonPossessive(s string) string {
	ws := strings.Fields(s)
	for i, w := range ws {
		if strings.EqualFold(w, "my") {
			ws[i] = "their"
		}
	}
	return strings.Join(ws, " ")
}
