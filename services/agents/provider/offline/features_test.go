package offline

import (
	"reflect"
	"testing"
)

func TestParseFeatures(t *testing.T) {
	tests := []struct {
		description string
		features    []string
		resources   []string
	}{
		{recipes,
			[]string{"Home cooks can publish recipes", "Home cooks can rate other people's recipes",
				"Home cooks can build weekly meal plans with a shopping list", "Managers can see a weekly report"},
			[]string{"/recipes", "/meal-plans", "/reports"}},
		{"A task tracker for small teams. Users can create projects, assign tasks to teammates and comment on them. The app sends reminders before due dates.",
			[]string{"Users can create projects", "Users can assign tasks to teammates", "Users can comment on them",
				"The system can send reminders before due dates"},
			[]string{"/projects", "/tasks", "/comments", "/reminders"}},
		{"I want an app to track my expenses by category and export monthly summaries as CSV.",
			[]string{"Users can track their expenses by category", "Users can export monthly summaries as CSV"},
			[]string{"/expenses", "/summaries"}},
		{"An internal tool that lets support agents search past tickets and suggests answers using an LLM.",
			[]string{"Support agents can search past tickets", "Support agents can suggest answers using an LLM"},
			[]string{"/tickets", "/answers"}},
		{"Users can create posts and comments.", []string{"Users can create posts and comments"}, []string{"/posts"}},
		{"Un outil pour gérer les stocks.", []string{"Un outil pour gérer les stocks"}, nil},
		{"1. Track workouts\n2. Share routines with friends", []string{"Users can track workouts", "Users can share routines with friends"},
			[]string{"/workouts", "/routines"}},
	}
	for _, tt := range tests {
		fs := parseFeatures(tt.description)
		var got []string
		for _, f := range fs {
			got = append(got, f.text())
		}
		if !reflect.DeepEqual(got, tt.features) {
			t.Errorf("%q:\n features %q\n want     %q", tt.description, got, tt.features)
		}
		var paths []string
		for _, r := range resourcesFromFeatures(fs) {
			paths = append(paths, r.path())
		}
		if !reflect.DeepEqual(paths, tt.resources) {
			t.Errorf("%q: resources %q, want %q", tt.description, paths, tt.resources)
		}
		// A feature's text reads back as the same feature, so features survive documents.
		for _, f := range fs {
			if back := featuresFromLines([]string{f.text()}); len(back) != 1 || back[0].text() != f.text() {
				t.Errorf("%q does not read back: %+v", f.text(), back)
			}
		}
	}
}

func TestWordForms(t *testing.T) {
	for w, want := range map[string]string{"recipes": "recipe", "categories": "category", "boxes": "box", "classes": "class",
		"status": "status", "expenses": "expense", "data": "data", "bus": "bus"} {
		if got := singular(w); got != want {
			t.Errorf("singular(%q) = %q, want %q", w, got, want)
		}
	}
	for w, want := range map[string]string{"recipe": "recipes", "category": "categories", "box": "boxes", "day": "days", "class": "classes"} {
		if got := plural(w); got != want {
			t.Errorf("plural(%q) = %q, want %q", w, got, want)
		}
	}
	r := resource{words: []string{"meal", "plan"}}
	if r.path() != "/meal-plans" || r.pascal() != "MealPlan" || r.idParam() != "mealPlanId" || r.snakePlural() != "meal_plans" {
		t.Errorf("resource names: %s %s %s %s", r.path(), r.pascal(), r.idParam(), r.snakePlural())
	}
}
