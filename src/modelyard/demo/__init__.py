"""The live demo: a task the base model cannot do, learned from ~100 examples."""
