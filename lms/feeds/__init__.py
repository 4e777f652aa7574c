"""Discovery for crawlers and feed readers: robots.txt, sitemaps, Atom feeds, OpenSearch."""
