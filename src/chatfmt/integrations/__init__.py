"""chatfmt inside dataset tools: `datasets` (add_prompts) and Ray Data (PromptRenderer); each imported only when used."""
