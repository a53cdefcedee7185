"""Request types of elastic/elasticsearch-specification, extracted for the endpoint tests."""
