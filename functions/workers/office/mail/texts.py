"""Every sentence the mail flow says to a person, in Japanese and English, as pairs.

One place, so the message catalog (functions/ackflow/i18n) can take them over as they are: each
key is one message, ``{name}`` placeholders are filled by ``say``.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "card_title": ("新しい依頼メール", "New request mail"),
    "from": ("差出人", "From"),
    "subject": ("件名", "Subject"),
    "received": ("受信", "Received"),
    "client": ("顧客", "Client"),
    "client_guess": ("{client}（推定）", "{client} (guessed)"),
    "client_unknown": ("不明な差出人（登録済みの顧客と一致しません）", "Unknown sender (no client in the case sheet matches)"),
    "due": ("納期（本文より）", "Due (from the mail)"),
    "body": ("本文（冒頭）", "Body (first lines)"),
    "html_only": ("HTML のみのメール（文字だけを表示）", "HTML-only mail (shown as text)"),
    "no_body": ("（本文なし）", "(no text)"),
    "attachments": ("添付ファイル", "Attachments"),
    "too_large": ("大きすぎるため保存しません", "too large, will not be saved"),
    "no_attachments": ("添付なし", "No attachments"),
    "recipients": ("宛先 {count:,} 件に送られたメールです", "Sent to {count:,} recipients"),
    "auth_failed": ("⚠ 送信元の認証に失敗しました（{checks}）。なりすましの可能性があります", "⚠ The sender failed authentication ({checks}); it may be forged"),
    "truncated": ("メールの構造が複雑すぎるため一部のみ読み取りました", "The mail's structure was too deep or wide; only part of it was read"),
    "open": ("案件を作成", "Open a case"),
    "ignore": ("無視", "Ignore"),
    "open_anyway": ("やはり案件を作成", "Open a case anyway"),
    "ignored_by": ("{who} が無視しました", "Ignored by {who}"),
    "opening": ("{who} が案件作成を依頼しました（ジョブ {job}）", "{who} asked for a case (job {job})"),
    "opened": ("案件 {case} になりました（{who}）", "Became case {case} ({who})"),
    "folder": ("フォルダー", "Folder"),
    "already_opened": ("このメールは既に案件 {case} になっています（ジョブ {job}）。", "This mail already became case {case} (job {job})."),
    "already_opening": ("このメールの案件は作成中です（ジョブ {job}）。", "A case is being opened from this mail (job {job})."),
    "unknown_mail": ("このボタンのメールが見つかりません。", "I no longer know the mail of this button."),
    "not_allowed": ("案件を作成する権限がありません（newcase）。", "You may not open cases here (newcase)."),
    "ignored_reply": ("無視しました。", "Ignored."),
    "confirm_from_mail": ("メール「{subject}」から案件を作成します", "Open a case from the mail “{subject}”"),
    "no_subject": ("（件名なし）", "(no subject)"),
    "saved": ("メールと添付 {count} 件を 01_受領資料 に保存しました", "Saved the mail and {count} attachment(s) in 01_受領資料"),
    "not_saved": ("保存しなかった添付: {names}", "Attachments not saved: {names}"),
}


def say(key: str, language: str = "ja", **values) -> str:
    japanese, english = TEXTS[key]
    text = english if language == "en" else japanese
    return text.format(**values) if values else text

# Gmail labels (names people see in Gmail; nested under "Ackflow")
LABEL_PENDING = "Ackflow/確認待ち"  # a card asks what to do with the mail
LABEL_DONE = "Ackflow/処理済"  # a case was opened from it, or a person chose to ignore it
