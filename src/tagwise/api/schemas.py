"""The shapes the API answers with, as Pydantic models the OpenAPI schema declares.

For the schema only: the routes return what the services build, and declare these with
``responses={200: {"model": ...}}`` rather than ``response_model``, which would validate the
answers and drop any field not listed here, fields the Azure SDKs read among them.
``tests/api/test_openapi_responses.py`` checks real answers against them. The project file,
the project settings and the evaluation options are here too: the API takes them and gives them back.
The field names are Azure's; a model that the server fills with more than it lists says so
(``extra="allow"``, ``additionalProperties`` in the schema).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tagwise.api.errors import ErrorObject

ProjectKind = Literal["CustomSingleLabelClassification", "CustomMultiLabelClassification"]
JobStatus = Literal["notStarted", "running", "succeeded", "failed", "cancelled", "cancelling", "partiallyCompleted"]
Dataset = Literal["Train", "Test"]
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    value: list[T]
    nextLink: str | None = Field(description="The next page's absolute URL (it keeps the request's other query parameters); null on the last page.")


# -- what the API takes and gives back --------------------------------------------------------

class ProjectSettings(BaseModel):
    model_config = ConfigDict(extra="allow")  # other settings a client sent are kept and given back

    confidenceThreshold: float | None = Field(None, ge=0, le=1, examples=[0.5], description="Single-label: below this confidence the class is \"None\". "
                                                "Multi-label: a floor under each class's tuned threshold (a class is returned only at or above both).")
    classThresholds: dict[str, Annotated[float, Field(ge=0, lt=1)] | None] | None = Field(
        None, examples=[{"neutral": 0.6, "grief": 0.2}],
        description="Multi-label only (400 in a single-label project): a class's threshold in place of the one tuned at training, "
                    "higher or lower; confidenceThreshold still applies on top. Each name must be a class of the project; "
                    "null removes one class's (or, for the whole object, every class's).")


class ClassRef(BaseModel):
    category: str


class ProjectDocument(BaseModel):
    location: str = Field(description="Unique in the project, e.g. doc1.txt.")
    text: str | None = Field(None, description="tagwise: the text inline; without it, read from the blob {container}/{location}.")
    language: str | None = None
    dataset: Dataset | None = Field(None, description="Used by manual evaluation.")
    class_: ClassRef | None = Field(None, alias="class", description="Single-label projects.")
    classes: list[ClassRef] | None = Field(None, description="Multi-label projects.")


class ProjectMetadata(BaseModel):
    projectName: str | None = Field(None, examples=[None], description="The name in the URL, if given (leave it out, or give the URL's).")
    projectKind: ProjectKind | None = None
    language: str | None = None
    storageInputContainerName: str | None = None
    multilingual: bool | None = Field(None, examples=[False])
    description: str | None = None
    settings: ProjectSettings | None = None


class ProjectAssets(BaseModel):
    projectKind: ProjectKind | None = Field(None, description="Or metadata.projectKind.")
    classes: list[ClassRef] = []
    documents: list[ProjectDocument] = Field([], description="Replaces every document of the project ([] removes them all).")


class ProjectFile(BaseModel):
    """What :export gives back and :import takes."""

    projectFileVersion: str | None = Field(None, examples=["2022-05-01"])
    stringIndexType: str | None = Field(None, examples=["Utf16CodeUnit"])
    metadata: ProjectMetadata
    assets: ProjectAssets


class EvaluationOptions(BaseModel):
    kind: Literal["percentage", "manual"] = Field("percentage", description="manual: by each document's dataset (Train/Test).")
    trainingSplitPercentage: int | None = Field(None, ge=1, le=99, examples=[80], description="Default 80; the two add up to 100.")
    testingSplitPercentage: int | None = Field(None, ge=1, le=99, examples=[20], description="Default 20.")


# -- projects ----------------------------------------------------------------------------------

class Project(BaseModel):
    """Azure's ProjectDetails."""

    projectName: str
    projectKind: ProjectKind
    language: str
    storageInputContainerName: str
    multilingual: bool
    settings: ProjectSettings
    createdDateTime: datetime
    lastModifiedDateTime: datetime
    description: str | None = Field(None, description="Absent when the project has none.")
    lastTrainedDateTime: datetime | None = Field(None, description="Absent until a model is trained.")
    lastDeployedDateTime: datetime | None = Field(None, description="Absent until a model is deployed.")


class ProjectList(Page[Project]):
    pass


class TrainingConfigVersion(BaseModel):
    trainingConfigVersion: str = Field(description="A model recipe's name, or 2022-05-01 (the default recipe).")
    modelExpirationDate: date = Field(description="Always 9999-12-31: tagwise's models never expire.")


class TrainingConfigVersionList(Page[TrainingConfigVersion]):
    pass


class SupportedLanguage(BaseModel):
    languageName: str
    languageCode: str


class SupportedLanguageList(Page[SupportedLanguage]):
    pass


# -- jobs --------------------------------------------------------------------------------------

class JobWarning(BaseModel):
    code: str
    message: str


class _Job(BaseModel):
    jobId: str
    createdDateTime: datetime
    lastUpdatedDateTime: datetime
    expirationDateTime: datetime
    status: JobStatus
    errors: list[ErrorObject]
    error: ErrorObject | None = Field(None, description="A failed job's first error (azure-core reads only this field); absent otherwise.")


class JobState(_Job):
    """An authoring job's state: deletion, import, deploy or delete-deployment, swap."""

    warnings: list[JobWarning]


class ExportJobState(JobState):
    resultUrl: str = Field(description="The exported project file's absolute URL.")


class SubTrainingState(BaseModel):
    percentComplete: int = Field(ge=0, le=100)
    status: JobStatus
    startDateTime: datetime | None = None
    endDateTime: datetime | None = None


class TrainingJobResult(BaseModel):
    modelLabel: str
    trainingConfigVersion: str = Field(description="The recipe it trains, by its name (latest and 2022-05-01 read as the default recipe's).")
    trainingStatus: SubTrainingState
    evaluationStatus: SubTrainingState
    estimatedEndDateTime: datetime | None = Field(None, description="From the pace so far while it runs; when it ended once it has.")


class TrainingJobState(JobState):
    result: TrainingJobResult


class TrainingJobList(Page[TrainingJobState]):
    pass


# -- models and their evaluation --------------------------------------------------------------

class TrainedModel(BaseModel):
    label: str
    modelId: str
    lastTrainedDateTime: datetime
    lastTrainingDurationInSeconds: int
    modelExpirationDate: date = Field(description="Always 9999-12-31.")
    modelTrainingConfigVersion: str
    hasSnapshot: bool = Field(description="Always false: tagwise has no :load-snapshot.")


class TrainedModelList(Page[TrainedModel]):
    pass


class ClassEvaluation(BaseModel):
    f1: float
    precision: float
    recall: float
    truePositiveCount: int
    trueNegativeCount: int
    falsePositiveCount: int
    falseNegativeCount: int


class ConfusionCell(BaseModel):
    normalizedValue: float = Field(description="The share of the expected class's test documents, in percent.")
    rawValue: float = Field(description="How many test documents.")


class MultiLabelEvaluation(BaseModel):
    classes: dict[str, ClassEvaluation]
    microF1: float
    microPrecision: float
    microRecall: float
    macroF1: float
    macroPrecision: float
    macroRecall: float


class SingleLabelEvaluation(MultiLabelEvaluation):
    confusionMatrix: dict[str, dict[str, ConfusionCell]] = Field(description="Expected class, then predicted class; no zero cells.")


class EvaluationExtras(BaseModel):
    """tagwise's additions to the evaluation summary (docs/api.md lists them all); the SDKs ignore them."""

    model_config = ConfigDict(extra="allow")

    accuracy: float
    expectedCalibrationError: float | None
    testDocuments: int
    confidenceThreshold: float | None = None
    trainDocumentsPerClass: dict[str, int] | None = None
    classThresholds: dict[str, float] | None = Field(None, description="Multi-label: each class's tuned threshold.")
    projectClassThresholds: dict[str, float] | None = Field(None, description="Multi-label: the project's own class thresholds it was scored with.")
    noClass: dict[str, int] | None = Field(None, description="Multi-label: testDocuments, answeredNoClass, wronglyAnsweredNoClass.")
    languages: list[dict[str, Any]] | None = Field(None, description="A test set in several languages: how each fares.")
    notes: list[str] | None = None
    thresholds: list[dict[str, Any]] | None = Field(None, description="Single-label: the test set scored at other thresholds.")
    majorityBaseline: dict[str, Any] | None = Field(None, description="Single-label: always answering the test set's commonest class.")
    chosenRecipe: str | None = None
    chosenBecause: str | None = None
    crossValidated: bool | None = None
    sentenceEncoder: str | None = None


class EvaluationSummary(BaseModel):
    projectKind: ProjectKind
    evaluationOptions: EvaluationOptions
    customSingleLabelClassificationEvaluation: SingleLabelEvaluation | None = Field(None, description="Single-label projects.")
    customMultiLabelClassificationEvaluation: MultiLabelEvaluation | None = Field(None, description="Multi-label projects.")
    tagwise: EvaluationExtras


class SingleLabelDocumentResult(BaseModel):
    expectedClass: str
    predictedClass: str = Field(description="\"None\" when the confidence threshold held the class back.")


class MultiLabelDocumentResult(BaseModel):
    expectedClasses: list[str]
    predictedClasses: list[str]


class DocumentEvaluationExtras(BaseModel):
    """Single-label: ``topClass`` and ``confidence`` before the threshold; multi-label: ``scores``."""

    model_config = ConfigDict(extra="allow")

    topClass: str | None = None
    confidence: float | None = None
    scores: dict[str, float] | None = None


class DocumentEvaluation(BaseModel):
    """One test document's result."""

    projectKind: ProjectKind
    location: str
    language: str
    customSingleLabelClassificationResult: SingleLabelDocumentResult | None = None
    customMultiLabelClassificationResult: MultiLabelDocumentResult | None = None
    tagwise: DocumentEvaluationExtras | None = Field(None, description="Models trained since 2026-11-28.")


class DocumentEvaluationList(Page[DocumentEvaluation]):
    pass


# -- deployments -------------------------------------------------------------------------------

class Deployment(BaseModel):
    deploymentName: str
    modelId: str
    lastTrainedDateTime: datetime
    lastDeployedDateTime: datetime
    deploymentExpirationDate: date = Field(description="Always 9999-12-31.")
    modelTrainingConfigVersion: str
    assignedResources: list[dict[str, Any]] = Field(description="Always empty: tagwise has no Azure resources.")
    trainedModelLabel: str


class DeploymentList(Page[Deployment]):
    pass


class ProjectDeployment(Deployment):
    """A deployment with the project it belongs to: an item of the list of every project's deployments."""

    projectName: str
    projectKind: ProjectKind


class ProjectDeploymentList(Page[ProjectDeployment]):
    pass


# -- classification ----------------------------------------------------------------------------

class ClassScore(BaseModel):
    category: str
    confidenceScore: float = Field(ge=0, le=1)


class DocumentWarning(BaseModel):
    code: str = Field(examples=["DocumentTruncated", "LanguageNotTrained"])
    message: str
    targetRef: str | None = None


class DocumentStatistics(BaseModel):
    charactersCount: int
    transactionsCount: int


class ClassifiedDocument(BaseModel):
    id: str
    class_: list[ClassScore] = Field(alias="class", description="Single-label: the chosen class (then the next likeliest, with top); "
                                                               "multi-label: the chosen classes, likeliest first (maybe none).")
    warnings: list[DocumentWarning]
    statistics: DocumentStatistics | None = Field(None, description="Analyze jobs with showStats only.")


class DocumentError(BaseModel):
    id: str
    error: ErrorObject


class ClassifyResponse(BaseModel):
    projectName: str
    deploymentName: str
    trainedModelLabel: str = Field(description="The trained model the deployment served when it answered (a swap or deploy may change it).",
                                   examples=["m1"])
    modelId: str = Field(description="That model's id: a retrained label gets a new one, while the deployment keeps the version it was given.")
    documents: list[ClassifiedDocument]
    errors: list[DocumentError]


class RequestStatistics(BaseModel):
    documentsCount: int
    validDocumentsCount: int
    erroneousDocumentsCount: int
    transactionsCount: int


class ClassificationResults(BaseModel):
    projectName: str
    deploymentName: str
    documents: list[ClassifiedDocument]
    errors: list[DocumentError]
    statistics: RequestStatistics | None = Field(None, description="With showStats only.")


class AnalyzeTaskState(BaseModel):
    kind: Literal["CustomSingleLabelClassificationLROResults", "CustomMultiLabelClassificationLROResults"]
    taskName: str
    lastUpdateDateTime: datetime
    status: JobStatus
    results: ClassificationResults | None = Field(None, description="Absent while the task runs and when it failed (the job's errors say why).")


class AnalyzeTasks(BaseModel):
    completed: int
    failed: int
    inProgress: int
    total: int
    items: list[AnalyzeTaskState]


class AnalyzeTextJobState(_Job):
    displayName: str | None = None
    tasks: AnalyzeTasks
    nextLink: str | None = Field(None, description="The next page of documents' absolute URL, once the job has ended; absent on the last.")


# -- tagwise's own routes ----------------------------------------------------------------------

class ListedDocument(ProjectDocument):
    """A document as a project file has it (``text`` included), and whether and by whom it was tagged."""

    text: str
    tagged: bool
    taggedBy: str | None = Field(None, description="Tagged in the studio: the name of the API key its tagger signed in with.")
    taggedAt: datetime | None = Field(None, description="Tagged in the studio: when.")


class ListedDocumentList(Page[ListedDocument]):
    pass


class DocumentsAdded(BaseModel):
    documents: int = Field(description="In the file.")
    classes: int = Field(description="The project's, after it.")
    projectDocuments: int = Field(description="The project's, after it.")
    replacedDocuments: int = Field(description="Those at a location the project had.")
    tagsRemoved: int = Field(description="Of the replaced ones, the tagged ones the file has untagged: their tags are gone.")


class DocumentsDeleted(BaseModel):
    deleted: int
    modelsTrainedOnThem: list[str] = Field(description="The models that still carry what they learned from them: delete or retrain those.")


class Blob(BaseModel):
    location: str
    size: int = Field(description="In characters.")


class BlobList(Page[Blob]):
    pass


class BlobsDeleted(BaseModel):
    container: str
    deletedBlobs: int


class ApiKey(BaseModel):
    keyId: str
    name: str
    role: Literal["authoring", "runtime"]
    keyPrefix: str = Field(description="The secret's first characters, to tell keys apart.")
    rateLimitPerMinute: int | None = Field(description="The key's own limit (0: unlimited); null: TAGWISE_RATE_LIMIT_PER_MINUTE.")
    createdDateTime: datetime
    revokedDateTime: datetime | None


class ApiKeyList(Page[ApiKey]):
    pass


class CreatedApiKey(ApiKey):
    key: str = Field(description="The secret: this answer is the only time it is shown.")


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class HealthUnavailable(BaseModel):
    status: Literal["unavailable"]
    reason: str


def answers(model: type[BaseModel], description: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses`` declaring ``model`` as its answer at ``status``, for the schema only."""
    return {status: {"model": model, "description": description}}
