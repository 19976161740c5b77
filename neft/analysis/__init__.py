"""The analysis wing: what the pipeline does with the Monte-Carlo result files once they exist.
Aggregation (runs.csv, summary.csv), the beta search, Figure 3/4, the tables, the verdicts and the
replication report, as Markdown and HTML. It imports the core (neft.*) and never torch; the core
imports nothing from here."""
