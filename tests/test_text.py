"""Words compared the same way everywhere (``chatrec.text``)."""

from __future__ import annotations

from chatrec.text import fold, names


def test_a_name_is_found_as_whole_words_folded() -> None:
    assert names("Arlo", "Arlo Pro 4 Spotlight 4 Camera Security Bundle")
    assert names("all-in-one", 'HP 27" All-in-One Touchscreen Desktop')
    assert names("netgear", "NETGEAR – Orbi AX5400 Wi-Fi 6 Mesh System")
    assert names("wifi", "TP-Link Deco X60 Wi-Fi 6 AX3000")
    assert names("Samsung Odyssey", 'Samsung 49" Class Odyssey CRG9') is False  # not side by side
    assert names("arlo", "Carlos the Jackal") is False
    assert names("", "Arlo Pro") is False
    assert fold("Wi-Fi") == "wifi"
