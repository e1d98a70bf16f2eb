package offline

import (
	"regexp"
	"strings"
)

// resource is a thing the product manages, named by one or two singular lower-case ASCII words
// (["meal", "plan"]): the API's collections, the schema's tables and the code's types.
type resource struct {
	words   []string
	feature int // index of the feature it comes from, -1 if none
}

func (r resource) label() string       { return strings.Join(r.words, " ") }
func (r resource) labelPlural() string { return strings.Join(r.pluralWords(), " ") }
func (r resource) snake() string       { return strings.Join(r.words, "_") }
func (r resource) snakePlural() string { return strings.Join(r.pluralWords(), "_") }
func (r resource) kebabPlural() string { return strings.Join(r.pluralWords(), "-") }
func (r resource) pascal() string      { return pascal(r.words) }
func (r resource) pascalPlural() string {
	return pascal(r.pluralWords())
}
func (r resource) camel() string { return lowerFirst(r.pascal()) }

// path is the collection's path, e.g. "/meal-plans".
func (r resource) path() string { return "/" + r.kebabPlural() }

// idParam is the path parameter of one item, e.g. "mealPlanId".
func (r resource) idParam() string { return r.camel() + "Id" }

func (r resource) pluralWords() []string {
	ws := append([]string(nil), r.words...)
	ws[len(ws)-1] = plural(ws[len(ws)-1])
	return ws
}

func pascal(ws []string) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(upperFirst(w))
	}
	return b.String()
}

const maxResources = 6

var (
	// fillers come before the noun of an object phrase and are skipped: "rate other people's
	// recipes" is about recipes, "build weekly meal plans" about meal plans.
	fillers = set("a", "an", "the", "their", "his", "her", "its", "our", "my", "your", "this", "that", "these",
		"those", "other", "others", "each", "every", "all", "any", "some", "more", "most", "many", "few",
		"several", "multiple", "new", "existing", "own", "weekly", "daily", "monthly", "yearly", "annual",
		"simple", "basic", "custom", "detailed", "personal", "public", "private", "shared", "recent", "upcoming",
		"favourite", "favorite", "various", "different", "specific", "relevant", "important", "single",
		"individual", "entire", "full", "quick", "easy", "up", "online", "real", "live", "short", "long", "one",
		"two", "three", "first", "last", "next", "same", "similar", "related", "current", "past", "previous")
	// phraseEnd ends an object phrase.
	phraseEnd = set("to", "for", "with", "by", "on", "in", "at", "from", "of", "into", "about", "via", "using",
		"and", "or", "but", "that", "which", "who", "whom", "whose", "when", "where", "while", "so", "as", "per",
		"between", "within", "without", "across", "through", "over", "under", "after", "before", "during",
		"than", "then", "if", "because", "like", "based", "together", "once", "automatically")
	// generic nouns name no resource of their own (users and accounts are built in).
	generic = set("app", "application", "system", "platform", "feature", "way", "thing", "stuff", "everything",
		"something", "anything", "time", "information", "detail", "them", "they", "it", "user", "account",
		"profile", "people", "person", "everyone", "anyone", "someone", "progress", "access", "help", "support",
		"data", "content", "work", "lot", "site", "website", "page", "screen", "health", "error", "prediction")
)

// resourcesFromFeatures names the objects of the features' actions.
func resourcesFromFeatures(features []feature) []resource {
	var out []resource
	seen := map[string]bool{}
	for i, f := range features {
		if !f.phrase || len(out) == maxResources {
			continue
		}
		if ws := objectOf(words(f.action)); ws != nil && !seen[strings.Join(ws, "_")] {
			seen[strings.Join(ws, "_")] = true
			out = append(out, resource{words: ws, feature: i})
		}
	}
	return out
}

// objectOf returns the resource words of a verb phrase: the head noun of the object (with the
// word before it when that is a noun too), or the verb's own noun ("comment on them").
func objectOf(ws []string) []string {
	if len(ws) == 0 {
		return nil
	}
	verb := baseVerb(ws[0])
	var phrase []string
	for _, w := range ws[1:] {
		if phraseEnd[w] {
			break
		}
		if fillers[w] || strings.HasSuffix(w, "'s") || strings.HasSuffix(w, "’s") || strings.HasSuffix(w, "s'") {
			if len(phrase) == 0 {
				continue
			}
			break
		}
		phrase = append(phrase, w)
		if len(phrase) == 3 {
			break
		}
	}
	if len(phrase) == 0 || generic[singular(phrase[len(phrase)-1])] {
		if n, ok := verbNouns[verb]; ok {
			return []string{n}
		}
		return nil
	}
	head := singular(phrase[len(phrase)-1])
	if !isASCIIWord(head) {
		return nil
	}
	if len(phrase) >= 2 {
		mod := phrase[len(phrase)-2]
		if isASCIIWord(mod) && isVerb(mod) == notVerb && !generic[mod] && !strings.HasSuffix(mod, "ed") {
			return []string{mod, head}
		}
	}
	return []string{head}
}

// specPath finds the collection paths of an API specification ("  /meal-plans:" under paths).
var specPath = regexp.MustCompile(`(?m)^  ["']?/([a-z][a-z0-9-]*)["']?:[ \t]*$`)

// resourcesFromSpec reads the resources of an earlier API specification, so that the code,
// tests and operations documents use the API as approved, not as re-derived.
func resourcesFromSpec(spec string, features []feature) []resource {
	var out []resource
	for _, m := range specPath.FindAllStringSubmatch(spec, -1) {
		if m[1] == "health" || m[1] == "predictions" || len(out) == maxResources {
			continue
		}
		var ws []string
		for _, w := range strings.Split(m[1], "-") {
			if isASCIIWord(w) {
				ws = append(ws, w)
			}
		}
		if len(ws) == 0 || len(ws) > 2 {
			continue
		}
		ws[len(ws)-1] = singular(ws[len(ws)-1])
		r := resource{words: ws, feature: -1}
		for i, f := range features {
			if a := strings.ToLower(f.action); strings.Contains(a, r.labelPlural()) || strings.Contains(a, r.label()) {
				r.feature = i
				break
			}
		}
		out = append(out, r)
	}
	return out
}
