"""The dashboard's words in English and Dutch, and which language a visitor gets: the one
they chose, else the best of their browser's Accept-Language, else English."""

from __future__ import annotations

LANGUAGES = ("en", "nl")

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to the content",
        "overview": "Overview",
        "devices": "Devices",
        "findings": "Findings",
        "report": "Data report",
        "log_out": "Log out",
        "log_in": "Log in",
        "user": "User name",
        "password": "Password",
        "no_users": "No account yet. Set one on the HomeGuard machine with: homeguard web passwd",
        "bad_login": "That user name and password do not match.",
        "slow_down": "Too many failed tries. Wait {seconds} seconds before the next one.",
        "health": "Is HomeGuard working?",
        "running": "HomeGuard is running and saw {packets} packets in its last report.",
        "not_running": "HomeGuard is not running: no report from it for {minutes} minutes.",
        "no_stats": "HomeGuard has not reported yet. Start it with: sudo systemctl start homeguard",
        "attention": "What needs attention",
        "nothing": "Nothing needs attention now.",
        "week": "Data that left the house this week",
        "no_data": "No data left the house this week, or HomeGuard has not seen it.",
        "name": "Name",
        "maker": "Maker",
        "first_seen": "First seen",
        "last_seen": "Last seen",
        "open_findings": "Open findings",
        "known": "Known",
        "rename": "Name and known",
        "your_name": "Your name for it",
        "is_known": "I know this device",
        "save": "Save",
        "saved": "Saved.",
        "dns_log": "Recent lookups",
        "no_dns": "No lookups kept (this device is metadata-only, or it made none).",
        "severity": "Severity",
        "device": "Device",
        "message": "What happened",
        "advice": "What to do",
        "seen": "Seen",
        "acknowledge": "Acknowledge",
        "acknowledged": "Acknowledged",
        "mute_rule": "Mute this kind for",
        "mute_device": "Mute this device for",
        "muted": "Muted.",
        "day": "a day",
        "week_span": "a week",
        "forever": "until unmuted",
        "language": "Language",
        "choose": "Choose",
        "viewer": "You can look, not change (a viewer account).",
        "not_found": "There is no such page.",
        "forbidden": "This form has expired. Go back, reload the page and try again.",
        "unnamed": "an unnamed device",
        "pages": "Pages",
        "newer": "Newer",
        "older": "Older",
        "page_of": "page {page} of {pages}",
    },
    "nl": {
        "skip": "Naar de inhoud",
        "overview": "Overzicht",
        "devices": "Apparaten",
        "findings": "Bevindingen",
        "report": "Gegevensrapport",
        "log_out": "Uitloggen",
        "log_in": "Inloggen",
        "user": "Gebruikersnaam",
        "password": "Wachtwoord",
        "no_users": "Nog geen account. Stel er een in op de HomeGuard-machine met: homeguard web passwd",
        "bad_login": "Die gebruikersnaam en dat wachtwoord horen niet bij elkaar.",
        "slow_down": "Te veel mislukte pogingen. Wacht {seconds} seconden voor de volgende.",
        "health": "Werkt HomeGuard?",
        "running": "HomeGuard draait en zag {packets} pakketten in zijn laatste rapport.",
        "not_running": "HomeGuard draait niet: al {minutes} minuten geen rapport.",
        "no_stats": "HomeGuard heeft nog niets gemeld. Start het met: sudo systemctl start homeguard",
        "attention": "Wat aandacht nodig heeft",
        "nothing": "Niets heeft nu aandacht nodig.",
        "week": "Gegevens die deze week het huis verlieten",
        "no_data": "Er verlieten deze week geen gegevens het huis, of HomeGuard zag ze niet.",
        "name": "Naam",
        "maker": "Fabrikant",
        "first_seen": "Eerst gezien",
        "last_seen": "Laatst gezien",
        "open_findings": "Open bevindingen",
        "known": "Bekend",
        "rename": "Naam en bekend",
        "your_name": "Jouw naam ervoor",
        "is_known": "Ik ken dit apparaat",
        "save": "Opslaan",
        "saved": "Opgeslagen.",
        "dns_log": "Recente opzoekingen",
        "no_dns": "Geen opzoekingen bewaard (dit apparaat is metadata-only, of deed er geen).",
        "severity": "Ernst",
        "device": "Apparaat",
        "message": "Wat er gebeurde",
        "advice": "Wat te doen",
        "seen": "Gezien",
        "acknowledge": "Gezien, afhandelen",
        "acknowledged": "Afgehandeld",
        "mute_rule": "Demp dit soort voor",
        "mute_device": "Demp dit apparaat voor",
        "muted": "Gedempt.",
        "day": "een dag",
        "week_span": "een week",
        "forever": "tot je het weer aanzet",
        "language": "Taal",
        "choose": "Kies",
        "viewer": "Je kunt kijken, niet wijzigen (een kijkaccount).",
        "not_found": "Die pagina bestaat niet.",
        "forbidden": "Dit formulier is verlopen. Ga terug, laad de pagina opnieuw en probeer het nog eens.",
        "unnamed": "een naamloos apparaat",
        "pages": "Pagina's",
        "newer": "Nieuwer",
        "older": "Ouder",
        "page_of": "pagina {page} van {pages}",
    },
}
SEVERITY = {
    "en": {"info": "info", "low": "low", "medium": "medium", "high": "high", "critical": "critical"},
    "nl": {"info": "info", "low": "laag", "medium": "middel", "high": "hoog", "critical": "kritiek"},
}


def best_language(chosen: str | None, accept: str | None) -> str:
    if chosen in LANGUAGES:
        return str(chosen)
    ranked: list[tuple[float, str]] = []
    for part in (accept or "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES:
            ranked.append((weight, base))
    return max(ranked)[1] if ranked else "en"
