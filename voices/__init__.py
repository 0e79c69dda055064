"""Voice profiles, one `<language>.yaml` per language; installed as pelvicvoice.voice_profiles."""
