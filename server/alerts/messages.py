"""What an alert says, in English or Simplified Chinese: plain string tables, one per locale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

LOCALES: Final = ("en", "zh-CN")

_TEXT: Final[dict[str, dict[str, str]]] = {
    "en": {
        "opened.offline": "{screen} ({organisation}) is offline: {detail}",
        "opened.errors": "{screen} ({organisation}) reports errors: {detail}",
        "opened.storage": "{screen} ({organisation}) is short of storage: {detail}",
        "opened.mismatch": "{screen} ({organisation}) is not showing what it should: {detail}",
        "resolved.offline": "{screen} ({organisation}) is back online",
        "resolved.errors": "{screen} ({organisation}) reports no more errors",
        "resolved.storage": "{screen} ({organisation}) has enough storage again",
        "resolved.mismatch": "{screen} ({organisation}) shows what it should again",
        "subject.opened.one": "[Signage] {line}",
        "subject.resolved.one": "[Signage] Resolved: {line}",
        "subject.opened.many": "[Signage] {count} screens need attention",
        "subject.resolved.many": "[Signage] {count} screens are fine again",
        "kind.offline": "offline",
        "kind.errors": "errors",
        "kind.storage": "storage",
        "kind.mismatch": "not showing what it should",
        "since": "since {at}",
    },
    "zh-CN": {
        "opened.offline": "{screen}（{organisation}）已离线：{detail}",
        "opened.errors": "{screen}（{organisation}）报告错误：{detail}",
        "opened.storage": "{screen}（{organisation}）存储空间不足：{detail}",
        "opened.mismatch": "{screen}（{organisation}）未按排期播放：{detail}",
        "resolved.offline": "{screen}（{organisation}）已恢复在线",
        "resolved.errors": "{screen}（{organisation}）不再报告错误",
        "resolved.storage": "{screen}（{organisation}）存储空间已恢复",
        "resolved.mismatch": "{screen}（{organisation}）已恢复按排期播放",
        "subject.opened.one": "[信息发布] {line}",
        "subject.resolved.one": "[信息发布] 已恢复：{line}",
        "subject.opened.many": "[信息发布] {count} 块屏幕需要处理",
        "subject.resolved.many": "[信息发布] {count} 块屏幕已恢复正常",
        "kind.offline": "离线",
        "kind.errors": "错误",
        "kind.storage": "存储",
        "kind.mismatch": "未按排期播放",
        "since": "自 {at} 起",
    },
}


def locale_of(value: str | None) -> str:
    """A supported locale for `value` (zh, zh-cn, zh-Hans… → zh-CN; anything else → en)."""
    return "zh-CN" if value and value.lower().startswith("zh") else "en"


def text(locale: str, key: str, **values: Any) -> str:
    return _TEXT[locale_of(locale)][key].format(**values)


@dataclass(frozen=True)
class Message:
    subject: str
    lines: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(event: str, payloads: Sequence[Mapping[str, Any]], locale: str) -> Message:
    """One message for one event ("opened" or "resolved") of one or many incidents."""
    lines = tuple(
        text(
            locale,
            f"{event}.{p['kind']}",
            screen=p["screen"],
            organisation=p["organisation"],
            detail=p.get("detail", ""),
        )
        for p in sorted(payloads, key=lambda p: (p["organisation"], p["screen"], p["kind"]))
    )
    if len(lines) == 1:
        subject = text(locale, f"subject.{event}.one", line=lines[0])
    else:
        subject = text(locale, f"subject.{event}.many", count=len(lines))
    return Message(subject=subject[:250], lines=lines)
