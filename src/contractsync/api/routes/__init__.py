"""One small router per resource; each turns HTTP into one façade call."""
