"""The trend study per gemeente: content, charts and maps, HTML and PDF."""
