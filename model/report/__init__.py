"""Reports a person reads: summary.json, figures, Markdown and HTML, and the report folder."""
