"""Domain knowledge: how SDKs refresh credentials and how resolvers expand names."""
