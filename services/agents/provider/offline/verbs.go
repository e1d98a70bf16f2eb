package offline

import "strings"

// verbForm says whether a word is one of the action verbs features are made of, and in which form.
type verbForm int

const (
	notVerb  verbForm = iota
	baseForm          // "create"
	sForm             // "creates"
)

// verbs are the actions products are described with. The list is what makes feature and
// resource extraction work; it need not be complete, only unambiguous enough.
var verbs = set("add", "analyse", "analyze", "answer", "apply", "approve", "archive", "assign", "attach", "book",
	"bookmark", "browse", "build", "buy", "calculate", "cancel", "capture", "categorise", "categorize", "chat",
	"check", "choose", "classify", "collect", "comment", "compare", "complete", "compose", "configure", "connect",
	"create", "customise", "customize", "delete", "deliver", "design", "detect", "discover", "display", "donate",
	"download", "draft", "edit", "enrol", "enroll", "estimate", "explore", "export", "extract", "favorite",
	"favourite", "fill", "filter", "find", "flag", "follow", "forecast", "generate", "get", "highlight", "host",
	"import", "integrate", "invite", "invoice", "join", "label", "learn", "leave", "like", "list", "log", "manage",
	"mark", "message", "moderate", "monitor", "notify", "order", "organise", "organize", "pay", "plan", "play",
	"post", "practice", "practise", "predict", "preview", "print", "publish", "purchase", "rank", "rate", "read",
	"receive", "recommend", "record", "redeem", "refund", "register", "reject", "remind", "remove", "rent",
	"reply", "report", "request", "reserve", "review", "save", "scan", "schedule", "score", "search", "see",
	"select", "sell", "send", "set", "share", "ship", "shop", "show", "sign", "sort", "store", "stream",
	"submit", "subscribe", "suggest", "summarise", "summarize", "sync", "tag", "take", "track", "transcribe",
	"transfer", "translate", "update", "upload", "use", "validate", "verify", "view", "visualise", "visualize",
	"vote", "watch", "write")

// isVerb classifies a lower-case word.
func isVerb(w string) verbForm {
	switch {
	case verbs[w]:
		return baseForm
	case strings.HasSuffix(w, "ies") && verbs[w[:len(w)-3]+"y"],
		strings.HasSuffix(w, "es") && verbs[w[:len(w)-2]],
		strings.HasSuffix(w, "s") && verbs[w[:len(w)-1]]:
		return sForm
	}
	return notVerb
}

// baseVerb returns the base form of a verb in either form.
func baseVerb(w string) string {
	switch {
	case verbs[w]:
		return w
	case strings.HasSuffix(w, "ies") && verbs[w[:len(w)-3]+"y"]:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "es") && verbs[w[:len(w)-2]]:
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s") && verbs[w[:len(w)-1]]:
		return w[:len(w)-1]
	}
	return w
}

// verbNouns names the thing an action creates when the sentence names no object ("comment on
// them" gives comments).
var verbNouns = map[string]string{
	"book": "booking", "bookmark": "bookmark", "chat": "message", "comment": "comment", "donate": "donation",
	"invoice": "invoice", "message": "message", "order": "order", "pay": "payment", "post": "post",
	"rate": "rating", "register": "registration", "reply": "reply", "report": "report", "request": "request",
	"reserve": "reservation", "review": "review", "subscribe": "subscription", "tag": "tag", "vote": "vote",
}
