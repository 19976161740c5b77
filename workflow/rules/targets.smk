# Named targets: each figure and table by its name (`snakemake figure3`, `snakemake table1`) makes its files
# and what they need; `report`, `report_html`, `aggregate` and `beta_table` are rules of their own.
for figure_name in FIGURES:

    rule:
        name:
            figure_name
        input:
            expand(list(rules.figure.output), figure=figure_name),
        localrule: True


for table_name in RUNS_TABLES:

    rule:
        name:
            table_name
        input:
            expand(list(rules.table.output), table=table_name),
        localrule: True
