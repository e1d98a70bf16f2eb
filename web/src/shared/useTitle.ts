import { useEffect } from "react";

/** Sets the tab's title: "<title> · FuzzyLlama". */
export function useTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · FuzzyLlama` : "FuzzyLlama";
  }, [title]);
}
