"""Number formats for zh-Hans: amounts grouped by thousands with commas (¥1,234,567), as
mainland business documents and CLDR's zh locale write them. Django's own zh_Hans formats
leave numbers ungrouped; dates and everything not named here still come from Django's."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
