// Vitest setup: Testing Library cleans the DOM after each test.
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => cleanup());

// LiveProvider loads the live connection's code on sign-in with a dynamic import; loaded here
// first, it is never still loading when a test (and its environment) ends.
import "../live/engine";
