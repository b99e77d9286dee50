"""The eight domains of the study, in the order every front end shows them. A module of its own so
that the knowledge base can name them without loading the indicator register's models."""

DOMAINS = (
    "bestuur",
    "demografie",
    "economie en arbeidsmarkt",
    "sociaal domein",
    "veiligheid",
    "wonen en ruimte",
    "mobiliteit",
    "duurzaamheid en klimaat",
)
