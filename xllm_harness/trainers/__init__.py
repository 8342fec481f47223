"""CoIT/MuIT instruction data and the thin accelerate FSDP trainer."""
