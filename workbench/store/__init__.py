"""SQLite: one module per table family. sqlite-utils is imported by `store.db.Database` when first
needed, through lean_imports (without pandas); the modules here name it for annotations only."""
