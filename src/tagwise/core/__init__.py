"""The domain: projects, documents, training, models, deployments, analysis. No HTTP, no SQL."""
