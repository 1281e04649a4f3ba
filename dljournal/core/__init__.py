"""The engine core: experiment registry, runner and cache key, result store, context, profiles."""
