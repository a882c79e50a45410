"""Shared configuration for every part of the Pizzario offers system."""

from __future__ import annotations

from pizzario.config import (
    Config,
    ElasticsearchSettings,
    FlinkSettings,
    KafkaSettings,
    OfferSettings,
    Paths,
    StackSettings,
    TruthSettings,
    load_config,
)

__all__ = [
    "Config",
    "ElasticsearchSettings",
    "FlinkSettings",
    "KafkaSettings",
    "OfferSettings",
    "Paths",
    "StackSettings",
    "TruthSettings",
    "load_config",
]
