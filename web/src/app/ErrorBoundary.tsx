import { Component, type ReactNode } from "react";
import { ErrorView } from "../shared/ErrorView";

/**
 * A screen that failed to load (its chunk, after a deploy) or to render shows the error in words
 * and a way to try again, instead of a blank page.
 */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override render() {
    if (this.state.error === null) return this.props.children;
    return (
      <>
        <h1>Something went wrong</h1>
        <ErrorView error={this.state.error} retry={() => window.location.reload()} />
        <p>
          <a href="/projects">Back to your projects</a>
        </p>
      </>
    );
  }
}
