"""What we ask the model for: one pydantic model per analysis kind.

Each model is sent as the structured-response schema and, because the SDK silently leaves
``parsed`` empty on a reply that does not match, validated by us on the raw text. Fields follow
what the system we replace extracted (image, video, copy and "4D" personas), plus evidence
citations for personas. The SDK refuses ``dict`` fields and numeric bounds in schemas, so only
lists, strings, numbers and enums appear here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

AwarenessLevel = Literal["unaware", "problem_aware", "solution_aware", "product_aware", "most_aware"]
HookType = Literal[
    "question",
    "bold_claim",
    "statistic",
    "pain_point",
    "curiosity",
    "testimonial",
    "offer",
    "story",
    "demonstration",
    "social_proof",
    "other",
]
Quality = Literal["low", "medium", "high"]


class Hook(BaseModel):
    text: str = Field(description="The opening line or visual as the viewer meets it.")
    type: HookType
    notes: str = Field(description="Why it stops the scroll, in one sentence.")


class AdvertisingStructure(BaseModel):
    angle: str
    belief_statement: str = Field(description="The belief the ad wants the viewer to hold.")
    awareness_level: AwarenessLevel
    messaging_angles: list[str]
    benefits: list[str]
    features: list[str]
    objections_addressed: list[str]


class PersonaSignals(BaseModel):
    age_range: str
    gender_focus: str
    lifestyle: list[str]
    income_level: str
    identity_statements: list[str] = Field(description="'I am the kind of person who…' statements the ad implies.")


class BrandVoice(BaseModel):
    tone: str
    descriptors: list[str]


class TwoSided(BaseModel):
    emotional: list[str]
    functional: list[str]


class Transformation(BaseModel):
    before: str
    after: str


class Worldview(BaseModel):
    values: list[str]
    villains: list[str]
    heroes: list[str]


class TextContent(BaseModel):
    headline: str
    body: str
    call_to_action: str
    overlays: list[str]


class VisualStyle(BaseModel):
    palette: list[str]
    imagery: str
    production_quality: Quality


class ImageInsights(BaseModel):
    format_type: str = Field(description="e.g. product shot, lifestyle, UGC screenshot, meme, infographic.")
    layout: str
    text_content: TextContent
    hooks: list[Hook]
    advertising_structure: AdvertisingStructure
    benefits: list[str]
    usps: list[str]
    pain_points: list[str]
    persona_signals: PersonaSignals
    brand_voice: BrandVoice
    visual_style: VisualStyle
    confidence: float = Field(description="0 to 1: how sure you are of this reading.")


class Scene(BaseModel):
    start_s: float
    description: str


class VideoHook(BaseModel):
    transcript: str = Field(description="What is said or shown in the first 3 seconds.")
    type: HookType
    visual: str


class VideoStyle(BaseModel):
    format: str = Field(description="e.g. UGC talking head, demo, animation, testimonial montage.")
    production_quality: Quality
    pacing: str


class VideoInsights(BaseModel):
    hook: VideoHook
    transcript: str
    text_overlays: list[str]
    scenes: list[Scene]
    style: VideoStyle
    advertising_structure: AdvertisingStructure
    target_persona: PersonaSignals
    desires: list[str]
    transformation: Transformation
    pain_points: TwoSided
    benefits: TwoSided
    claims: list[str]
    testimonial: str | None = Field(description="A customer testimonial, if the video has one.")
    objections_handled: list[str]
    failed_solutions: list[str] = Field(description="Alternatives the ad says did not work.")
    urgency_triggers: list[str]
    activation_events: list[str] = Field(description="Moments that make someone start looking for this.")
    call_to_action: str
    emotional_drivers: list[str]
    brand_voice: BrandVoice
    worldview: Worldview
    confidence: float = Field(description="0 to 1: how sure you are of this reading.")


class CopyInsights(BaseModel):
    headline: str
    hook: Hook
    angle: str
    advertising_structure: AdvertisingStructure
    target_persona: PersonaSignals
    desires: list[str]
    transformation: Transformation
    pain_points: TwoSided
    benefits: TwoSided
    claims: list[str]
    social_proof: list[str]
    objections_handled: list[str]
    failed_solutions: list[str]
    urgency_triggers: list[str]
    activation_events: list[str]
    offer: str | None
    call_to_action: str
    brand_voice: BrandVoice
    worldview: Worldview
    confidence: float = Field(description="0 to 1: how sure you are of this reading.")


class Demographics(BaseModel):
    age_range: str
    gender: str
    location: str
    income: str
    occupation: str
    life_stage: str


class Persona4D(BaseModel):
    """One customer persona on the four dimensions: demographics and behaviour, psychographics and
    desires, identity and social, worldview."""

    name: str
    snapshot: str = Field(description="One paragraph a marketer can read aloud.")
    demographics: Demographics
    behaviour_habits: list[str]
    purchase_drivers: list[str]
    desires: list[str]
    transformation: Transformation
    self_narratives: list[str]
    current_self_image: str
    desired_self_image: str
    core_values: list[str]
    forces_of_good: list[str]
    forces_of_evil: list[str]
    pain_points: list[str]
    desired_features: list[str]
    failed_solutions: list[str]
    buying_objections: list[str]
    activation_events: list[str]
    decision_process: str
    emotional_risks: list[str]
    evidence_ad_ids: list[str] = Field(description="ad_id values from the evidence that support this persona.")
    confidence: float = Field(description="0 to 1.")


class PersonaSet(BaseModel):
    personas: list[Persona4D] = Field(min_length=3, max_length=6)


SCHEMAS: dict[str, type[BaseModel]] = {
    "video": VideoInsights,
    "image": ImageInsights,
    "copy": CopyInsights,
    "personas": PersonaSet,
}
