"""한국어 인터페이스 문구 (Korean interface texts; see :mod:`vitviz.i18n`). Keys must match ``en.py``.

기술 용어는 한국어 기술 문서의 관례대로 처음 나올 때 영어를 괄호에 둔다: 어텐션 롤아웃 (attention rollout).
"""

TEXT: dict[str, str] = {
    # ------------------------------------------------------------------ frame and shared widgets
    "app.page_title": "vitviz — 비전 트랜스포머 (Vision Transformer) 들여다보기",
    "app.footer": "vitviz · Dosovitskiy 외 2021, *An Image is Worth 16x16 Words* · 모델 출처: timm",
    "nav.walkthrough": "단계별 둘러보기",
    "nav.filters": "임베딩 필터",
    "nav.position": "위치 임베딩",
    "nav.attention": "어텐션",
    "nav.distance": "어텐션 거리",
    "nav.cnn": "CNN과 ViT 비교",
    "nav.paper": "논문 그림",
    "nav.facts": "모델 정보",
    "ui.untrained_badge": "학습되지 않은 (무작위) 가중치",
    "ui.image": "이미지",
    "ui.about_view": "이 화면 설명",
    "ui.npz_help": "이 그림의 데이터 (NumPy .npz)",
    "ui.png_help": "이 그림을 이미지로 (PNG)",
    "ui.csv_help": "이 그림의 데이터 (CSV)",
    "ui.alt_figure": "그림: {title}.",
    "ui.alt_data": "그림 아래의 NPZ / CSV 버튼으로 데이터를 내려받을 수 있습니다.",
    "ui.alt_map_peak": "맵은 패치 ({row}행, {col}열)에서 가장 강하며, 값은 {share}입니다.",
    "params.fallback": "링크의 {given} 값은 여기서 쓸 수 없어 {shown}(으)로 보여 줍니다.",
    "error.oom": "메모리가 부족합니다: 더 작은 모델이나 입력 크기를 고르세요.",
    "error.unexpected": "문제가 생겼습니다 ({kind}). 오류 ID `{id}` — 자세한 내용은 서버 로그에 있습니다.",
    "error.generic": "이 내용을 보여 줄 수 없습니다.",
    "error.image": "이 파일을 이미지로 읽을 수 없습니다.",
    "error.unknown_model": "알 수 없는 모델입니다.",
    "error.weights_missing": "모델 가중치 (weights)를 찾지 못했습니다.",
    "error.weights_bad": "모델 가중치 (weights)를 사용할 수 없습니다.",
    "error.unsupported": "이 모델에는 이 화면에 필요한 구성 요소가 없습니다.",
    # ------------------------------------------------------------------ sidebar
    "sidebar.language": "Language · 언어",
    "sidebar.presenter": "발표 모드 (presenter mode)",
    "sidebar.presenter_help": ("사이드바를 접고 글자를 키우며, 그림을 1280×720 프로젝터에 맞춥니다. "
                               "단계별 둘러보기: PageDown / PageUp (발표용 리모컨)으로 앞뒤 단계로 이동합니다."),
    "sidebar.model": "모델",
    "sidebar.model_help": ("가중치가 가중치 폴더나 Hugging Face 캐시에 있거나 허브에서 받을 수 있는 모델입니다. "
                           "자세한 내용은 아래 *이 모델에 대해*에 있습니다."),
    "sidebar.unavailable_suffix": " — 오프라인에서 사용 불가",
    "sidebar.unavailable": ("사전 학습 가중치를 쓸 수 없습니다: 로컬 가중치가 없고 Hugging Face 허브에 연결할 수 "
                            "없습니다. README의 *Weights* 절을 보세요."),
    "sidebar.untrained": "학습되지 않은 (무작위) 가중치 사용",
    "sidebar.untrained_help": "같은 구조에 무작위 가중치를 넣은 모델: 학습이 무엇을 배우는지와 대비됩니다.",
    "sidebar.about_model": "이 모델에 대해",
    "sidebar.image": "이미지",
    "sidebar.image_source": "이미지 출처",
    "sidebar.source_sample": "예제",
    "sidebar.source_upload": "업로드",
    "sidebar.source_camera": "카메라",
    "sidebar.sample": "예제 이미지",
    "sidebar.sample_label": "예제: {name}",
    "sidebar.upload": "이미지 업로드",
    "sidebar.upload_help": ("JPEG, PNG, WebP, BMP, TIFF 또는 GIF (첫 프레임); 최대 {mb} MB, {mp} 메가픽셀. "
                            "메모리에서만 읽고 저장하지 않습니다."),
    "sidebar.upload_label": "업로드한 이미지",
    "sidebar.camera": "사진 찍기",
    "sidebar.camera_label": "카메라 사진",
    "sidebar.hint_image": "사이드바에서 이미지를 고르세요: 예제, 업로드 또는 카메라 사진.",
    "sidebar.hint_model": "다른 모델을 고르거나, 사이드바에서 *학습되지 않은 (무작위) 가중치 사용*을 체크하세요.",
    "sidebar.image_id": "이미지 ID `{id}` ({label})",
    "sidebar.downloading": "Hugging Face 허브에서 {model} 내려받는 중 ({repo})…",
    "sidebar.download_cached": "가중치는 캐시에 저장되어, 다음 실행부터는 오프라인에서도 디스크에서 읽습니다.",
    "sidebar.downloaded": "Hugging Face 허브에서 {model}을(를) 내려받았습니다",
    "sidebar.device": "장치 (device)",
    "sidebar.cpu_after_oom": "CPU에서 실행 중: 이 세션에서 앞서 GPU 메모리가 부족했습니다.",
    "sidebar.cpu_only": "장치: CPU (이 컴퓨터에는 GPU가 없습니다).",
    "sidebar.size": "입력 크기 (px)",
    "sidebar.size_help": "패치 크기 ({p} px)의 배수; 위치 임베딩은 다시 샘플링됩니다.",
    "sidebar.size_fixed": "입력 크기: {px} px (이 모델은 고정)",
    "sidebar.size_capped": ("{top} px보다 큰 크기는 제공하지 않습니다: {next} px에서 분석 하나가 {need} MiB를 "
                            "차지해, 이 서버의 분석당 한도 {limit} MiB (`{var}`의 4분의 1)를 넘습니다."),
    # ------------------------------------------------------------------ walk-through
    "walk.page": "단계별 둘러보기: 픽셀에서 예측까지",
    "walk.explanation": ("논문의 그림 1을 한 단계씩: 이미지를 P×P 패치 (patch)로 자르고, 각 패치를 펼쳐 D차원으로 "
                         "사영 (projection)한 뒤, 학습된 접두 토큰 (prefix token, 클래스 토큰)을 앞에 붙이고, 위치 "
                         "임베딩 (position embedding)을 더하면, 인코더의 출력이 헤드 (head)로 들어갑니다. 이전 / 다음 "
                         "(또는 발표용 리모컨이 보내는 PageUp / PageDown)으로 이동합니다."),
    "walk.back": "◀ 이전",
    "walk.next": "다음 ▶",
    "walk.step": "단계",
    "walk.step_image": "이미지",
    "walk.step_grid": "패치 격자",
    "walk.step_flatten": "펼친 패치",
    "walk.step_projection": "선형 사영 (linear projection)",
    "walk.step_prefix": "접두 토큰 (prefix token)",
    "walk.step_position": "위치 임베딩 (position embedding)",
    "walk.step_encoder": "트랜스포머 인코더 (Transformer encoder)",
    "walk.step_prediction": "예측",
    "walk.patch_index": "패치 (행 우선 번호)",
    "walk.image_text": ("네트워크는 이미지를 **{h}×{w} px**로 크기 조정하고 가운데를 잘라 ({label}), 모델의 평균과 "
                        "표준편차로 정규화해서 봅니다."),
    "walk.network_input": "네트워크 입력",
    "walk.image_alt": "네트워크가 보는 이미지, {h}×{w} px.",
    "walk.hybrid_grid": "하이브리드 (hybrid, 논문 3.1절): CNN 스템 (stem, {stem})이 이미지를 특징 칸 {gh}×{gw}개의 격자로 바꿉니다. 칸 하나는 입력의 {p}×{p} px (스트라이드)에 해당하고 약 {rf} px를 봅니다. 픽셀 패치가 아니라 이 칸들이 토큰이 됩니다.",
    "walk.hybrid_flatten": "칸 {n}개를 행 순서대로 읽으면 시퀀스가 됩니다. 칸 {index} ({row}행, {col}열)는 그 자리의 픽셀이 아니라 CNN 스템의 **{channels}차원 특징 벡터**입니다.",
    "walk.stem_title": "칸 {index}: 스템의 특징 벡터",
    "walk.hybrid_projection": "학습된 행렬 E ({rows}×{d})가 칸마다의 스템 특징 {c}개를 **D = {d}** 벡터로 보냅니다 (스템 특징 맵 위의 {k}×{k} 합성곱). 행: 칸, 열: 차원.",
    "walk.illus_size": "설명용 패치 크기 (px)",
    "walk.illus_help": "모델은 항상 자기 패치 크기를 씁니다; 큰 패치가 눈으로 보기 쉽습니다.",
    "walk.grid_text": ("**{rows}×{cols} = {n}개 패치** ({p}×{p} px)로 자릅니다 (모델: {ph}×{pw} px 패치 "
                       "{gh}×{gw} = {model_n}개)."),
    "walk.grid_title": "{p} px 패치 {rows}×{cols}개",
    "walk.grid_alt": "입력 이미지 위에 {p} px 패치의 {rows}×{cols} 격자를 그린 그림.",
    "walk.flatten_text": ("패치를 행 순서대로 읽으면 길이 {n}의 시퀀스가 됩니다. 패치 {index} ({row}행, {col}열)는 "
                          "**{ph}·{pw}·3 = {values}개의 숫자**로 펼쳐집니다."),
    "walk.strip_title": "시퀀스 순서의 처음 16개 패치",
    "walk.patch_n": "패치 {index}",
    "walk.flat_title": "펼친 패치 {index} (픽셀 값 0–255)",
    "walk.value_index": "값 번호",
    "walk.projection_text": ("학습된 행렬 E ({rows}×{d})가 펼친 패치 각각을 **D = {d}** 벡터로 보냅니다 (커널 = "
                             "스트라이드 = {p}인 합성곱). 행: 패치, 열: 차원."),
    "walk.projection_title": "패치 임베딩 (patch embedding) x_p·E",
    "walk.embedded_title": "임베딩된 패치 {index}",
    "walk.dimension": "차원",
    "walk.none": "없음",
    "walk.role_pooled": "이 모델에는 클래스 토큰이 없습니다: 출력은 패치 토큰을 풀링 (pooling)한 것입니다.",
    "walk.role_class": "논문에서는 클래스 토큰의 최종 상태를 헤드가 분류합니다; 여기서도 그렇습니다.",
    "walk.role_feature": ("논문에서는 클래스 토큰의 최종 상태를 헤드가 분류합니다; 이 모델은 헤드가 없어서 클래스 "
                          "토큰의 최종 상태가 곧 출력 특징 (feature)입니다."),
    "walk.prefix_text": ("학습된 토큰을 패치 앞에 붙입니다: **{names}** (접두 토큰 {n}개; 시퀀스 길이 {tokens}). "
                         "{role}"),
    "walk.prefix_title": "접두 토큰 (선 위) + 패치",
    "walk.position_text": ("모든 토큰에 학습된 위치 임베딩을 더해 패치의 순서를 알 수 있게 합니다. 이것이 인코더의 "
                           "입력 z₀입니다. *위치 임베딩* 화면에서 그 유사도를 볼 수 있습니다."),
    "walk.position_title": "z₀ = 토큰 + E_pos",
    "walk.encoder_text": ("**블록 {layers}개**, 각각: LayerNorm → 멀티헤드 셀프 어텐션 (multi-head self-attention, "
                          "헤드 {heads}개) → 잔차 연결 (residual), LayerNorm → MLP ({d}→{mlp}→{d}) → 잔차 연결. "
                          "첫 층부터 모든 토큰이 다른 모든 토큰에 어텐션할 수 있습니다. 아래: 모든 층을 거친 어텐션 "
                          "롤아웃 (attention rollout) (*어텐션* 화면에서 설정을 바꿀 수 있습니다)."),
    "walk.prediction_text": ("헤드 (선형 층)가 클래스 토큰의 최종 상태를 클래스 점수로 바꾸고, 소프트맥스 "
                             "(softmax)가 확률을 줍니다."),
    "walk.random_labels": "**학습되지 않은 가중치: 레이블은 무작위입니다.**",
    "walk.top5": "상위 5개 예측",
    "walk.top5_alt": "확률이 가장 높은 다섯 클래스의 막대그래프; 첫째는 {label} ({p}).",
    "walk.no_head_text": ("이 모델에는 **분류 헤드가 없습니다** (자기 지도 학습 또는 사전 학습 백본): 출력은 "
                          "{d}차원 특징으로, 검색이나 군집화, 새 헤드에 쓰입니다."),
    "walk.output_feature": "출력 특징 (feature)",
    # ------------------------------------------------------------------ embedding filters
    "filters.page": "임베딩 필터",
    "filters.explanation": ("패치 사영 E는 P×P×3 픽셀 필터 D개의 묶음입니다. 논문 그림 7 (왼쪽)처럼 이 필터들의 "
                            "상위 주성분 (principal component)을 보여 줍니다 (중심화하고 각각 자기 범위로 조정). "
                            "논문 (ViT-L/32)에서는 패치 안의 미세 구조를 저차원으로 표현하는 그럴듯한 기저 함수를 "
                            "닮았습니다. 원래 필터를 보려면 전환하세요."),
    "filters.note_random": "무작위 가중치: 기저 함수가 아니라 잡음이 보일 것입니다",
    "filters.note_backbone": "분류 헤드가 없는 백본 (예: 자기 지도 학습 DINO/DINOv2)",
    "filters.note_patch": "{ph}×{pw} px 패치 (논문 그림: 32×32)",
    "filters.differs": "이 모델은 논문의 모델과 다릅니다: {notes}.",
    "filters.hybrid": "보여 줄 임베딩 필터가 없습니다: {note}.",
    "filters.show": "보기",
    "filters.pca": "주성분 (principal components)",
    "filters.raw": "원래 필터",
    "filters.pca_text": "필터 {n}개의 상위 주성분 {k}개가 함께 설명하는 필터 분산의 비율: **{share}**.",
    "filters.top_k": "상위 주성분 {k}개",
    "filters.pca_alt": "패치 임베딩 필터의 주성분마다 하나씩, 작은 컬러 그림 {k}개.",
    "filters.evr": "설명된 분산 (explained variance)",
    "filters.count": "보여 줄 필터 수",
    "filters.first_n": "처음 {n}개의 원래 필터",
    # ------------------------------------------------------------------ position embeddings
    "position.page": "위치 임베딩",
    "position.explanation": ("타일 하나는 입력 패치 하나 (행, 열)에 해당하며, 그 위치 임베딩과 다른 모든 위치의 "
                             "임베딩 사이의 코사인 유사도 (cosine similarity)를 보여 줍니다 (접두 토큰 제외). 논문 "
                             "그림 7 (가운데, ViT-L/32)에서는 가까운 패치일수록 임베딩이 비슷하고 행과 열이 구조를 "
                             "공유합니다: 모델이 데이터에서 2차원 배치를 배운 것입니다. 타일을 누르면 크게 보입니다. "
                             "기본 크기가 아닌 입력에서는 모델처럼 임베딩을 다시 샘플링합니다."),
    "position.none": "이 모델에는 학습된 절대 위치 임베딩이 없습니다.",
    "position.random_note": " (무작위 초기화: 구조가 없을 것으로 예상)",
    "position.fig_title": "위치 임베딩 유사도",
    "position.tiles": "{gh}×{gw} 타일, 각각 {gh}×{gw}",
    "position.tiles_alt": ("작은 히트맵 {gh}×{gw}개의 격자: (행, 열) 타일은 그 패치의 위치 임베딩이 다른 모든 "
                           "패치와 얼마나 비슷한지 보여 줍니다."),
    "position.one_patch": "입력 패치 하나를 크게",
    "position.pick_help": "위의 타일이나 큰 그림을 누르거나, 행과 열 (0부터)을 정하세요.",
    "position.row": "행",
    "position.col": "열",
    "position.patch_title": "입력 패치 ({row}, {col})",
    "position.similarity_to_all": "전체와의 유사도",
    "position.tile_alt": "패치 ({row}, {col})의 위치 임베딩과 전체의 코사인 유사도 히트맵.",
    # ------------------------------------------------------------------ attention
    "attention.page": "어텐션",
    "attention.explanation": ("위: 한 층에서 쿼리 토큰 (query token) 하나가 어디를 보는지 — 소프트맥스 어텐션 행렬에서 "
                              "그 행을 패치 위에 그린 것 (접두 토큰 열 제외, 재정규화 안 함); 패치를 누르면 그 패치가 "
                              "쿼리가 됩니다. 아래: 논문 그림 6의 방법인 어텐션 롤아웃 (attention rollout, Abnar & "
                              "Zuidema 2020): 헤드를 합치고 (A + I)를 재정규화해 층마다 곱한 뒤, 클래스 토큰에서 "
                              "(없으면 패치 쿼리의 평균에서) 읽습니다. 자홍색 점선 테두리는 어텐션 싱크 (attention "
                              "sink)입니다."),
    "attention.layer": "층 (layer)",
    "attention.layer_n": "{layer}층",
    "attention.head": "헤드 (head)",
    "attention.head_mean": "헤드 평균",
    "attention.head_n": "헤드 {n}",
    "attention.query": "쿼리 토큰 (query token)",
    "attention.opacity": "불투명도",
    "attention.fig_title": "어텐션",
    "attention.fig_setting": "{layer}층, {head}, 쿼리 {query}",
    "attention.heads_title": "헤드 {n}개 전체",
    "attention.rollout": "어텐션 롤아웃 (attention rollout)",
    "attention.fusion": "헤드 결합 방식 (head fusion)",
    "attention.fusion_mean": "평균",
    "attention.fusion_max": "최댓값",
    "attention.fusion_min": "최솟값",
    "attention.discard": "버림 비율 (discard ratio)",
    "attention.discard_help": "각 행에서 가장 약한 어텐션 연결을 버리는 비율 (접두→접두 연결은 유지).",
    "attention.start": "시작 층",
    "attention.sinks": "어텐션 싱크 (attention sink)",
    "attention.sinks_keep": "유지",
    "attention.sinks_drop": "제외",
    "attention.sinks_help": "모든 층에서 싱크 패치를 키 (key)에서 제외; 행은 재정규화.",
    "attention.rollout_setting": "{start}층부터, {fusion} 결합, 버림 {discard}",
    "attention.rollout_sinks_out": ", 싱크 제외",
    "attention.sink_found_one": "**패치 {where}에 어텐션 싱크.** 패치 ({row}, {col})는 균등 몫 (키마다 1/{tokens})의 최대 **{score}배** 어텐션을 받습니다 ({layers}층).",
    "attention.sink_found_many": "**패치 {where}에 어텐션 싱크들.** 패치 ({row}, {col})는 균등 몫 (키마다 1/{tokens})의 최대 **{score}배** 어텐션을 받습니다 ({layers}층).",
    "attention.sink_explanation": ("어텐션 싱크 (attention sink)는 무엇을 보여 주든 거의 모든 쿼리가 균등 몫 (1/T)을 "
                                   "훨씬 넘게 어텐션하는 패치입니다; 그것이 나타나는 층을 거쳐 곱하는 롤아웃은 모든 "
                                   "행에서 이를 물려받아, 맵의 최댓값이 물체가 아니라 싱크를 가리키게 됩니다."),
    "attention.sink_not_high_norm": "노름이 큰 토큰 (high-norm token)은 아닙니다: 블록 출력이 패치 노름 중앙값의 {ratio}배 이하입니다.",
    "attention.sink_howto": ("물체를 보려면: 싱크를 *제외*하거나 (키 열을 버리고 행을 재정규화), 싱크가 나타나는 "
                             "층 다음부터 롤아웃을 시작하세요."),
    "attention.sink_registers": ("비교: 레지스터 토큰 (register token)이 있는 모델 (Darcet 외 2024, 예: 레지스터 4개를 "
                                 "가진 DINOv2 ViT-S/14, `vit_small_patch14_reg4_dinov2`)은 이런 전역 어텐션을 이미지 "
                                 "밖의 자리에 둡니다; 그런 모델의 맵에는 이런 패치가 적습니다."),
    "attention.no_sink": "여기에는 어텐션 싱크가 없습니다: 어느 층에서도 균등 몫의 {threshold}배 이상을 받는 패치가 없습니다.",
    "attention.high_norm": "노름이 큰 토큰 (high-norm token, Darcet 외 2024): {where}; 출력 노름이 패치 중앙값의 {k}배 초과.",
    # ------------------------------------------------------------------ attention distance
    "distance.page": "어텐션 거리",
    "distance.explanation": ("헤드마다: 패치와 그 패치가 어텐션하는 패치들 사이의 평균 픽셀 거리를 어텐션으로 가중한 "
                             "값 (접두 토큰 제외, 행 재정규화 안 함, 네트워크 입력의 픽셀 단위) — CNN의 수용 영역 "
                             "(receptive field)에 해당하는 ViT의 값입니다. 논문 그림 7 (오른쪽, ViT-L/16, 이미지 "
                             "128장)에서는 가장 낮은 층에서도 멀리 보는 헤드와 가까이만 보는 헤드가 함께 있고, 깊어질수록 "
                             "모두 커집니다. 선: 이미지 전체에 대한 균등 어텐션과 3×3 패치 창, 모델마다 자기 격자로."),
    "distance.images": "이미지",
    "distance.mode_this": "이 이미지",
    "distance.mode_samples": "예제 이미지 전부",
    "distance.mode_uploads": "업로드한 여러 이미지",
    "distance.upload_hint": "평균을 낼 이미지를 몇 장 업로드하세요.",
    "distance.compare": "비교할 모델 (예: 지도 학습 대 DINO)",
    "distance.no_compare": "여기에는 비교할 가중치를 가진 다른 모델이 없습니다.",
    "distance.progress": "{label}: 이미지 {n} / {total}",
    "distance.input_px": "입력 {h}×{w} px",
    "distance.summary": ("{model}: 첫 층의 헤드는 {first} px, 마지막 층은 {last} px. 이 격자에서 균등 어텐션은 "
                         "{uniform} px."),
    # ------------------------------------------------------------------ CNN vs ViT
    "cnn.page": "CNN과 ViT 비교",
    "cnn.explanation": ("CNN은 층마다 넓어지는 창 (수용 영역, receptive field)으로 보고, ViT는 첫 블록부터 이미지 전체에 "
                        "어텐션할 수 있습니다. 아래: CNN의 예측과 단계 (stage)별 특징 맵, 그리고 ViT의 헤드별 평균 "
                        "어텐션 거리와 CNN의 이론적·유효 수용 영역 반지름을 상대 깊이 위에 함께 그린 그림 (모두 각 "
                        "네트워크 입력의 픽셀 단위)."),
    "cnn.none": "등록된 CNN이 없습니다.",
    "cnn.untrained": "학습되지 않은 (무작위) CNN 가중치 사용",
    "cnn.unavailable": ("{model}의 사전 학습 가중치는 오프라인에서 쓸 수 없습니다. 다른 CNN을 고르거나 *학습되지 않은 "
                        "(무작위) CNN 가중치 사용*을 체크하세요."),
    "cnn.random_labels": "학습되지 않은 가중치: 이 레이블은 무작위입니다.",
    "cnn.no_head": "이 CNN에는 분류 헤드가 없어 예측이 없습니다.",
    "cnn.stage": "단계 (stage)",
    "cnn.stage_text": ("{h}×{w} 격자 위의 채널 {channels}개 ({reduction} px마다 유닛 하나); 이론적 수용 영역 {rf} px, "
                       "유효 반지름 {erf} px."),
    "cnn.channels_title": "가장 활성이 큰 채널 {n}개",
    "cnn.pca_title": "채널 PCA를 RGB로",
    "cnn.erf_title": "유효 수용 영역 (effective RF)",
    "cnn.centre_unit": "{stage} 가운데 유닛",
    "cnn.versus": "수용 영역 대 어텐션 거리",
    "cnn.versus_title": "수용 영역 대 어텐션 거리 · {vit} 대 {cnn}",
    "cnn.versus_summary": ("ViT 첫 블록: 헤드는 평균 {lo}–{hi} px 떨어진 곳에 어텐션합니다; CNN의 첫 단계는 유닛 "
                           "주위 {radius} px를 봅니다 (이론적 반지름)."),
    # ------------------------------------------------------------------ what the tokens know
    "nav.tokens": "토큰이 아는 것",
    "tokens.page": "토큰이 아는 것, 층별로",
    "tokens.explanation": "ℓ번째 블록 다음 각 패치의 토큰 (최종 정규화 적용, 접두 토큰 제외). 왼쪽: 그 층 패치 토큰의 상위 주성분 (principal component) 세 개를 빨강·초록·파랑으로 이미지 위에 — 학습된 자기 지도 (self-supervised) 모델 (DINO, DINOv2)에서는 뒤쪽 층에서 물체의 부분들이 저마다의 색을 띱니다; 첫째 성분은 흔히 물체와 배경을 가릅니다 (선택 가능한 마스크). 오른쪽: 한 패치 토큰과 모든 패치 토큰의 코사인 유사도 (cosine similarity), [−1, 1] 고정 척도; 패치를 눌러 고르세요. 층과 쿼리 패치는 *어텐션* 화면과 같습니다.",
    "tokens.none": "이 분석에는 층별 패치 토큰이 없습니다.",
    "tokens.fit": "PCA를 맞춘 대상",
    "tokens.fit_image": "이 이미지",
    "tokens.fit_samples": "예제 전부",
    "tokens.fit_help": "이미지 하나: 그 이미지만의 색 (물체 찾기에 가장 좋음). 예제 전부: 예제 이미지 여섯 장에 PCA 하나를 맞춰, 같은 색이 모든 이미지에서 같은 방향을 뜻합니다.",
    "tokens.mask": "전경 마스크 (foreground mask)",
    "tokens.mask_help": "첫째 성분 점수가 평균보다 낮은 패치를 검게 칠합니다.",
    "tokens.pca_title": "패치 토큰, 상위 3개 PCA를 RGB로",
    "tokens.pca_alt": "{layer}층: 이미지와, 상위 주성분 세 개로 색칠한 패치 (분산의 {share}).",
    "tokens.pca_caption": "세 성분이 패치 토큰 분산의 {share}를 담고, 첫째 성분은 패치의 {fg}를 전경으로 표시합니다.",
    "tokens.sim_title": "토큰 유사도",
    "tokens.sim_setting": "{layer}층, 패치 ({row}, {col})",
    "tokens.sim_alt": "패치 ({row}, {col}) 토큰과 모든 패치 토큰의 코사인 유사도를 이미지 위에; 평균 {mean}.",
    "tokens.sim_caption": "노랑: 테두리 친 패치의 토큰과 같은 방향 (1); 회색: 직교 (0); 진한 파랑: 반대 (−1).",
    "tokens.prefix_query": "쿼리가 {token}이라 이미지 위의 패치가 없습니다: 패치를 누를 때까지 가운데 패치를 보여 줍니다.",
    # ------------------------------------------------------------------ explanations
    "nav.explain": "설명 (explanations)",
    "explain.page": "설명: 어떤 패치가 중요하며, 얼마나 충실한가",
    "explain.explanation": "출력이 어느 패치에 의존하는지 보여 주는 맵. ViT: 어텐션 롤아웃 (attention rollout, 클래스와 무관), 고른 클래스에 대한 기울기 가중 롤아웃 (gradient rollout; Chefer, Gur & Wolf 2021: 블록마다 어텐션 × 기울기의 양수 부분을 헤드 평균해 첫 블록부터 누적) — 헤드가 없는 모델 (DINO, DINOv2)은 레이블 없는 목표, 즉 풀링된 출력 특징의 L2 노름에 대해 — 그리고 클래스 토큰의 마지막 층 어텐션. CNN: 한 단계 (stage)에서 클래스의 Grad-CAM (Selvaraju 외 2017). *충실도 측정*은 각 맵의 순서대로 패치를 지우거나 (deletion) 드러내며 (insertion) 모델의 점수를 기록합니다; 무작위 순서가 기준선입니다.",
    "explain.vit": "ViT (비전 트랜스포머)",
    "explain.cnn": "CNN: Grad-CAM (클래스 활성화 맵)",
    "explain.class": "설명할 클래스",
    "explain.cnn_class": "설명할 클래스 (CNN)",
    "explain.class_help": "모델의 상위 5개 (★)가 먼저, 그다음 모든 클래스; 이름을 입력해 찾으세요.",
    "explain.target_class": "클래스 {index}: {name}",
    "explain.target_label_free": "레이블 없음: {target}",
    "explain.label_free_note": "이 모델에는 분류 헤드가 없습니다: 기울기 롤아웃은 클래스가 아니라 레이블 없는 목표, 풀링된 출력 특징의 L2 노름을 설명합니다.",
    "explain.rollout": "어텐션 롤아웃",
    "explain.gradient_rollout": "기울기 롤아웃 (gradient rollout)",
    "explain.cls_attention": "클래스 토큰 어텐션, {layer}층",
    "explain.relevance": "관련도",
    "explain.vit_caption": "왼쪽: 일반 롤아웃, 모든 클래스에 같음. 가운데: {target}에 대한 기울기 롤아웃. 오른쪽: 마지막 층에서 클래스 토큰 (없으면 패치 쿼리 평균)의 어텐션, 헤드 평균.",
    "explain.no_cnn": "여기에는 가중치를 가진 CNN이 없습니다.",
    "explain.cam_alt": "{stage}에서 {name}의 Grad-CAM을 이미지 위에; 평균 {mean}.",
    "explain.cam_caption": "Grad-CAM: {stage} 활성값에 채널별 클래스 로짓의 평균 기울기를 곱한 합의 양수 부분을, 그 단계의 {grid} 격자에서 입력 크기로 늘려 [0, 1]로 맞춘 것. CNN은 *CNN과 ViT 비교* 화면에서 고른 모델입니다.",
    "explain.measure": "충실도 측정",
    "explain.measure_help": "맵마다와 무작위 순서 8개마다 16단계의 삭제·삽입: 수백 번의 순전파 (GPU에서 몇 초, CPU에서 수십 초).",
    "explain.measuring": "패치를 지우고 드러내는 중…",
    "explain.faith_title": "삭제 (deletion)와 삽입 (insertion)",
    "explain.faith_alt": "삭제·삽입 곡선; 삭제 면적이 가장 작은 맵은 {best} ({auc}), 무작위는 {random}.",
    # ------------------------------------------------------------------ paper figures
    "paper.page": "논문 그림",
    "paper.explanation": ("논문의 그림을 논문의 배치대로, 사이드바의 모델로 예제 이미지에서 계산해 보여 줍니다; 논문이 "
                          "보고한 수치 (표 2, BiT 대 ViT 대 하이브리드의 계산량 연구)는 출처와 함께 인용합니다. 각 "
                          "설명은 논문이 어떤 모델로 무엇을 찾았는지, 화면의 모델이 어떻게 다른지 말합니다. 페이지 "
                          "전체를 오프라인에서 열리는 HTML 파일 하나로 내려받을 수 있습니다."),
    "paper.running": "{model}을(를) 예제 이미지 {n}장에 실행하는 중…",
    "paper.download": "이 페이지를 HTML 파일 하나로 내려받기 (그림 포함, 오프라인에서 열림)",
    "paper.about_figure": "이 그림 설명",
    "paper.png_hint": "각 그림의 카메라 버튼으로 슬라이드용 PNG를 저장할 수 있습니다.",
    # ------------------------------------------------------------------ model facts
    "facts.page": "모델 정보",
    "facts.explanation": ("논문 표 1처럼 층 수, 은닉 크기 D, MLP 크기, 헤드 수, 파라미터 수를 불러온 모델에서 읽고, "
                          "현재 입력 크기의 토큰 시퀀스를 덧붙입니다."),
    "facts.source": "timm: `{arch}` · 가중치: {weights} · 장치: {device} · dtype: {dtype}",
    "facts.col_model": "모델",
    "facts.col_layers": "층 수",
    "facts.col_hidden": "은닉 크기 D",
    "facts.col_mlp": "MLP 크기",
    "facts.col_heads": "헤드 수",
    "facts.col_params": "파라미터",
    "facts.this_model": "이 모델",
    "facts.paper_model": "논문: {name}",
    "facts.classes": "클래스 {n}개",
    "facts.stem": "- **CNN 스템 (stem)** (하이브리드): {stem} → 스트라이드 {stride} px에서 채널 {channels}개, 수용 영역 {rf} px; 파라미터 {total} M 중 {params} M",
    "facts.no_head": "없음 (백본)",
    "facts.list": ("- **패치 크기**: {ph}×{pw} px → 격자 {gh}×{gw} = **패치 {n}개**\n"
                   "- **접두 토큰**: {prefix} ({n_prefix}개)\n"
                   "- **시퀀스 길이**: 토큰 {tokens}개\n"
                   "- **분류기**: {head}"),
    # ------------------------------------------------------------------ figures (vitviz.plots)
    "plot.untrained": "(학습 안 됨)",
    "plot.head_n": "헤드 {n}",
    "plot.per_component": "성분별",
    "plot.cumulative": "누적",
    "plot.component": "주성분 (principal component)",
    "plot.variance_share": "분산 비율",
    "plot.cosine": "코사인 유사도",
    "plot.patch_column": "입력 패치 열",
    "plot.patch_row": "입력 패치 행",
    "plot.position_column": "위치 열",
    "plot.position_row": "위치 행",
    "plot.depth_layer": "네트워크 깊이 (층)",
    "plot.mean_distance_px": "평균 어텐션 거리 (입력 px)",
    "plot.mean_distance": "평균 어텐션 거리 (mean attention distance)",
    "plot.versus": " 대 ",
    "plot.images_one": "이미지 {n}장",
    "plot.images_n": "이미지 {n}장",
    "plot.ref_uniform": "균등",
    "plot.ref_window": "3×3 창",
    "plot.symbol_model": "기호 = 모델:",
    "plot.colour_head": "색 = 헤드:",
    "plot.probability": "확률",
    "plot.token": "토큰",
    "plot.dimension": "차원",
    "plot.vit_heads": "헤드별 평균 어텐션 거리",
    "plot.vit_mean": "헤드 평균 ± 표준편차",
    "plot.cnn_rf": "지금까지 가장 큰 이론적 수용 영역 반지름",
    "plot.cnn_erf": "유효 수용 영역 반지름 (기울기 질량의 {share})",
    "plot.relative_depth": "상대 깊이 (0 = 입력, 1 = 마지막 층)",
    "plot.radius_px": "반지름 / 거리 (입력 px)",
    "plot.attention": "어텐션",
    "plot.rollout": "롤아웃",
    "plot.deletion_title": "삭제 (deletion): 면적이 작을수록 충실",
    "plot.insertion_title": "삽입 (insertion): 면적이 클수록 충실",
    "plot.removed": "지운",
    "plot.revealed": "드러낸",
    "plot.cells_fraction": "{verb} {grid} 칸의 비율",
    "plot.score": "점수",
    "plot.score_note": "점수: {target} · 지운 칸은 {baseline}이 됩니다",
    "plot.network_input": "네트워크 입력",
    "plot.pca_rgb": "상위 주성분 3개를 RGB로",
    "plot.variance_of": "{components}: 분산의 {shares}",
    "plot.patch": "패치",
    "plot.cell": "칸",
    "plot.click_to_select": "클릭(또는 Enter)하면 쿼리로 선택",
    "plot.sink": "싱크",
    "plot.similarity": "유사도",
    # ---- compare page
    "nav.compare": "모델 비교",
    "compare.page": "모델 비교: 같은 이미지를 두 모델로",
    "compare.explanation": ("사이드바의 ViT와 두 번째 모델 (다른 ViT 또는 CNN)을 같은 이미지에서 나란히 봅니다. 각 모델은 "
                            "자기 전처리와 입력 크기를 씁니다. ViT는 어텐션 롤아웃 (attention rollout) 또는 한 층의 "
                            "클래스 토큰 어텐션 (헤드 평균)을, CNN은 마지막 단계 (stage)에서 상위 1위 클래스의 Grad-CAM "
                            "(클래스 활성화 맵)을 보여 줍니다. 아래에는 깊이에 따른 평균 어텐션 거리 (mean attention "
                            "distance)를 겹쳐 그리고 ViT마다 자기 격자의 기준선을 긋습니다 (CNN과 비교할 때는 상대 깊이에 "
                            "따른 수용 영역 (receptive field) 반경). 표 1의 정보도 나란히 놓습니다."),
    "compare.model2": "두 번째 모델",
    "compare.model2_help": "등록된 모든 ViT 또는 CNN; 첫 번째 모델은 사이드바에서 고른 모델입니다.",
    "compare.untrained2": "두 번째 모델에 학습되지 않은 (무작위) 가중치 사용",
    "compare.unavailable": ("{model}의 사전 학습 가중치는 오프라인에서 쓸 수 없습니다. 다른 모델을 고르거나 *두 번째 "
                            "모델에 학습되지 않은 (무작위) 가중치 사용*을 선택하세요."),
    "compare.map": "맵",
    "compare.map_rollout": "어텐션 롤아웃",
    "compare.map_layer": "한 층",
    "compare.layer_of": "{model}의 층",
    "compare.cls_attention": "클래스 토큰 어텐션, {layer}층",
    "compare.patch_attention": "패치 쿼리 평균의 어텐션, {layer}층",
    "compare.top1": "상위 1위: {name} ({p})",
    "compare.cam_alt": "CNN의 상위 1위 클래스 {name}에 대한 마지막 단계의 Grad-CAM을 {h}×{w} px 입력 위에; 평균 {mean}.",
    "compare.maps_caption": ("각 맵은 그 모델 자신의 입력 위에 그립니다 (자르기와 크기가 모델마다 다릅니다). 롤아웃과 "
                             "어텐션은 ViT 격자의 패치마다, Grad-CAM은 마지막 단계의 거친 격자를 입력 크기로 늘린 "
                             "것입니다. CNN에는 어텐션이 없으므로 어떤 맵을 고르든 CNN 열에는 Grad-CAM이 나옵니다."),
    "compare.depth": "깊이에 따른 어텐션 거리",
    "compare.inputs_px": "입력 {h}×{w} px와 {h2}×{w2} px",
    "compare.distance_summary": ("{model}: 첫 블록의 헤드는 평균 {first} px, 마지막 블록은 {last} px 떨어진 곳에 "
                                 "어텐션합니다 (그 격자에서 균일한 어텐션: {uniform} px)."),
    "compare.facts": "표 1 정보 나란히",
    "compare.col_fact": "항목",
    "compare.fact_weights": "가중치",
    "compare.weights_trained": "사전 학습",
    "compare.weights_untrained": "학습되지 않음 (무작위)",
    "compare.fact_kind": "종류",
    "compare.kind_hybrid": "하이브리드 ViT (CNN 스템)",
    "compare.fact_patch": "패치 크기",
    "compare.fact_input": "입력 크기",
    "compare.fact_tokens": "토큰 수",
    "compare.tokens": "{tokens} = 패치 {n}개 + 접두 토큰 {prefix}개",
    "compare.fact_stages": "단계 수",
    "compare.fact_rf": "수용 영역 (이론값)",
    "compare.rf_global": "첫 블록부터 입력 전체",
    "compare.rf_px": "마지막 단계에서 {px} px",
    "compare.conv_layers": "합성곱/풀링 층 {n}개",
    "compare.fact_top1": "상위 1위 예측",
    # ---- attention matrix page
    "nav.matrix": "어텐션 행렬",
    "matrix.page": "어텐션 행렬 (attention matrix): 모든 쿼리와 모든 키",
    "matrix.explanation": ("한 층의 한 헤드에서 모든 쿼리 토큰이 모든 키 (key) 토큰에 주는 어텐션입니다. q행은 쿼리 q의 "
                           "소프트맥스 (softmax) 어텐션이고 (한 헤드의 행은 합이 1), k열은 키 k가 받는 어텐션입니다. "
                           "토큰은 timm의 순서로, 접두 토큰 (prefix token: cls, 레지스터)이 먼저, 그다음 패치가 행 "
                           "우선 순서로 옵니다. 칸을 가리키면 이미지에서 쿼리 패치는 주황색 테두리, 키 패치는 자홍색 "
                           "점선 테두리로 표시되고, 이미지에는 쿼리의 행 전체가 칠해집니다. 밝은 세로 줄무늬는 모든 "
                           "쿼리가 주목하는 키 (클래스 토큰, 레지스터, 어텐션 싱크)이고, 밝은 대각선 띠는 국소 "
                           "어텐션입니다. 층과 헤드는 어텐션 페이지와 같습니다."),
    "matrix.log": "로그 색 척도",
    "matrix.log_help": "어텐션 값은 여러 자릿수에 걸쳐 있습니다. 로그 척도 (log scale)는 최댓값 아래 5자릿수를 보여 주고 (더 작은 값은 가장 어두운 색), 선형 척도는 0부터 최댓값까지입니다.",
    "matrix.fig_title": "어텐션 행렬",
    "matrix.fig_setting": "{layer}층, {head}, 토큰 {tokens} × {tokens}개",
    "matrix.query": "쿼리",
    "matrix.key": "키",
    "matrix.rows": "행: 쿼리 토큰 ↓",
    "matrix.columns": "열: 키 토큰 →",
    "matrix.matrix_label": "어텐션 행렬: 행은 쿼리 토큰, 열은 키 토큰입니다. 화살표 키로 십자선을 옮기고 (Shift: 10토큰), 아래 안내 문구가 두 토큰과 어텐션 비율을 알려 줍니다.",
    "matrix.image_label": "패치 격자와 쿼리의 어텐션을 겹친 네트워크 입력 이미지입니다. 패치를 가리키면 그 패치가 쿼리가 됩니다.",
    "matrix.scale": "색: 어텐션 비율",
    "matrix.scale_log": "로그 척도",
    "matrix.scale_linear": "선형 척도",
    "matrix.hint": "행렬을 가리키거나, Tab으로 행렬에 초점을 옮긴 뒤 화살표 키를 쓰세요 (Shift: 10토큰). 주황색: 쿼리의 행과 패치, 자홍색 점선: 키의 열과 패치. 이미지를 가리키면 쿼리 패치를 고를 수 있습니다.",
    "matrix.alt": "어텐션 비율의 {tokens} × {tokens} 행렬로, 행은 쿼리, 열은 키입니다. 평균적으로 가장 많은 어텐션을 받는 키는 {top}이며 (쿼리당 {top_share}), 접두 토큰은 각 쿼리 어텐션의 평균 {prefix_share}를 받습니다.",
    # ---- paper figures page (vitviz.paper)
    "paper.fig1_section": "그림 1 (Fig. 1) — 모델 개요",
    "paper.fig1_title": "그림 1 (Fig. 1, 모델 개요)",
    "paper.fig1_title_for": "{label}의 그림 1 (Fig. 1, 모델 개요)",
    "paper.fig1_title_numbers": " — {p}, {h} × {w} px에서 패치 {gh} × {gw} = {n}개, L = {layers}, D = {d}, 헤드 {heads}개",
    "paper.fig1_image": "{h}×{w}×{c}<br>이미지",
    "paper.fig1_input": "입력 {h} × {w} px",
    "paper.fig1_patches": "N = gh × gw = {gh} × {gw} = 패치 {n}개, 각 {ph} × {pw} px ({p})",
    "paper.fig1_flattened": "각각 P²·C = {pp}·{c} = {values}개 값으로 펼침",
    "paper.fig1_projection": "<b>펼친 패치의 선형 사영 (linear projection)</b>   E: {values} → D = {d}",
    "paper.fig1_hybrid_cells": ("N = gh × gw = {gh} × {gw} = CNN 특징 맵 (feature map)의 셀 {n}개, {ph} × {pw} px마다 "
                                "하나 (스템 스트라이드 {stride}{rf})"),
    "paper.fig1_hybrid_rf": ", 셀마다 {rf} px를 봄",
    "paper.fig1_hybrid_stem": "CNN 스템 (stem, {stem}): 셀마다 C = {c} 특징 벡터",
    "paper.fig1_hybrid_projection": "<b>하이브리드 (hybrid): CNN 스템 + {kh}×{kw} 사영</b>   E: {inputs} → D = {d}",
    "paper.fig1_no_prefix": "없음",
    "paper.fig1_embedding": ("<b>패치 + 위치 임베딩 (position embedding)</b><br>T = {p} + {n} = 토큰 {tokens}개, 각 "
                             "D = {d}<br>접두 토큰 (prefix token): {p}개 ({names}); * 학습되는 추가 임베딩"),
    "paper.fig1_encoder": ("<b>트랜스포머 인코더 (Transformer encoder)</b><br>L = {layers}층 · D = {d} · 헤드 {heads}개 · "
                           "MLP 크기 {mlp}"),
    "paper.fig1_head": "<b>MLP 헤드</b>  D = {d} → {n}",
    "paper.fig1_class": "<b>클래스 (class)</b>: {n}개 중 하나",
    "paper.fig1_no_head": "<b>헤드 없음: 특징 출력</b>",
    "paper.fig1_feature": "이미지마다 D = {d} 특징 벡터 (백본, 분류기 없음)",
    "paper.fig1_embedded": "<b>임베딩된 패치 (embedded patches)</b>",
    "paper.fig1_norm": "정규화 (Norm)",
    "paper.fig1_attention": "<b>멀티헤드 어텐션</b><br>헤드 {heads}개 × {dims}차원",
    "paper.fig1_block": "<b>트랜스포머 인코더</b> (블록 L = {layers}개 중 하나)",
    "paper.fig1_params": "파라미터 총 {params}개",
    "paper.head_mlp": "클래스 {n}개에 대한 MLP 헤드",
    "paper.head_none": "헤드 없음: 출력은 이미지마다 D = {d} 특징 벡터",
    "paper.fig1_caption": ("논문의 그림 1 (Fig. 1, 모델 개요: 이미지를 고정 크기 패치로 나누고, 각 패치를 선형으로 "
                           "임베딩하고, 위치 임베딩 (position embedding)을 더해, 그 시퀀스를 표준 트랜스포머 인코더 "
                           "(Transformer encoder)에 넣습니다; 학습되는 추가 [class] 토큰과 MLP 헤드가 분류합니다)을 "
                           "{hw}의 {label} 수치로 그렸습니다: 패치 {ph} × {pw} px, 토큰 {tokens}개, D = {d}, "
                           "L = {layers}, 헤드 {heads}개, MLP 크기 {mlp}, {head}. 논문의 ViT-Base/Large/Huge는 모두 "
                           "[class] 토큰과 MLP 헤드를 가집니다"),
    "paper.fig1_caption_notes": "; 이 모델은 다음이 다릅니다: {notes}.",
    "paper.fig1_caption_end": ".",
    "paper.table1_section": "표 1 (Table 1) — 모델 변형",
    "paper.table1_caption": ("논문의 표 1 (Table 1; ViT-Base, ViT-Large, ViT-Huge, 파라미터 수는 논문의 반올림 값)과, "
                             "가중치에서 센 불러온 모델의 행: {label}, 패치 {ph} × {pw} px, 접두 토큰 (prefix token) "
                             "{n}개."),
    "paper.table1_loaded": "{label} (불러온 모델)",
    "paper.this_model": "이 모델",
    "paper.col_model": "모델",
    "paper.col_layers": "층 수",
    "paper.col_hidden": "은닉 크기 D",
    "paper.col_mlp": "MLP 크기",
    "paper.col_heads": "헤드 수",
    "paper.col_params": "파라미터",
    "paper.col_benchmark": "벤치마크",
    "paper.col_family": "계열",
    "paper.col_epochs": "에폭",
    "paper.query_class": "클래스 토큰 (class token)",
    "paper.query_mean": "패치 쿼리의 평균 (이 모델에는 클래스 토큰이 없음)",
    "paper.image_n": "이미지 {n}",
    "paper.images_n": "이미지 {n}장",
    "paper.fig6_section": "그림 6 (Fig. 6) — 어텐션 롤아웃 (attention rollout), 이미지 {count}장",
    "paper.fig6_title": "그림 6: 어텐션 롤아웃",
    "paper.fig6_title_extra": "{query}, 이미지 {count}장",
    "paper.fig6_caption": ("논문의 발견 (그림 6 (Fig. 6), {paper_model}): 어텐션 롤아웃 (attention rollout)으로 계산한, "
                           "출력 토큰에서 입력 공간으로의 어텐션은 분류에 의미 있는 이미지 영역에 놓입니다. 여기서는: "
                           "{label}의 롤아웃 (Abnar & Zuidema 2020, 논문 부록 D.8 (App. D.8)처럼: 헤드 평균, (A + I) "
                           "재정규화, {layers}개 층 전체에 걸쳐 곱함)에서 {gh} × {gw} 패치 위의 {query} 행을 논문처럼 "
                           "그렸습니다: 각 이미지에 맵을 그 최댓값으로 나눈 값을 곱했습니다."),
    "paper.fig7_left_section": "그림 7 (Fig. 7, 왼쪽) — 패치 임베딩 필터",
    "paper.fig7_left_title": "그림 7 왼쪽: 패치 임베딩 필터",
    "paper.fig7_left_title_extra": "상위 주성분 {k}개, {ph}×{pw} px",
    "paper.fig7_left_finding": ("논문의 발견 (그림 7 (Fig. 7) 왼쪽, {paper_model}): 학습된 임베딩 필터의 상위 주성분 "
                                "(principal component)은 각 패치 안의 미세 구조를 저차원으로 표현하는 그럴듯한 기저 "
                                "함수를 닮았습니다."),
    "paper.fig7_left_here": ("여기서는: {label}의 선형 임베딩 E의 상위 성분 {k}개 (RGB, 각각 자기 범위로 조정)이며, "
                             "모두 합쳐 필터 분산의 {share}를 설명합니다."),
    "paper.fig7_left_not_drawn": "{label}에 대해서는 그리지 않습니다: {note}.",
    "paper.fig7_centre_section": "그림 7 (Fig. 7, 가운데) — 위치 임베딩 유사도",
    "paper.fig7_centre_title": "그림 7 가운데: 위치 임베딩 유사도",
    "paper.fig7_centre_title_extra": "{gh}×{gw} 타일",
    "paper.fig7_centre_finding": ("논문의 발견 (그림 7 (Fig. 7) 가운데, {paper_model}): 모델은 이미지 안의 거리를 위치 "
                                  "임베딩 (position embedding)의 유사도로 나타내도록 배웁니다 — 가까운 패치일수록 "
                                  "임베딩이 비슷하고, 행-열 구조가 나타납니다."),
    "paper.fig7_centre_here": ("여기서는: 타일 (i, j)는 {label}의 패치 (i, j)의 위치 임베딩과 다른 모든 패치의 위치 "
                               "임베딩 사이의 코사인 유사도 (cosine similarity)를 보여 줍니다."),
    "paper.fig7_centre_none": "{label}에는 비교할 학습된 위치 임베딩이 없습니다.",
    "paper.fig7_right_section": "그림 7 (Fig. 7, 오른쪽) — 평균 어텐션 거리",
    "paper.fig7_right_title": "그림 7 오른쪽: 헤드별 평균 어텐션 거리",
    "paper.fig7_right_title_extra": "이미지 {count}장, 입력 {hw}",
    "paper.fig7_right_caption": ("논문의 발견 (그림 7 (Fig. 7) 오른쪽, {paper_model}, 224 px 이미지 128장): 가장 낮은 "
                                 "층에서도 일부 헤드는 이미지의 대부분에 어텐션하고 다른 헤드는 가까운 곳에 머물며, "
                                 "어텐션 거리 (attention distance)는 네트워크가 깊어질수록 커집니다. 여기서는: "
                                 "{label}, 이미지 {count}장의 평균, {hw} 입력의 픽셀 단위; 첫 층 {first} px, 마지막 "
                                 "층 {last} px."),
    "paper.diff_size": "다른 크기: {parts}",
    "paper.diff_layers": "L = {layers}층 (논문: {paper})",
    "paper.diff_width": "D = {d} (논문: {paper})",
    "paper.diff_heads": "헤드 {heads}개 (논문: {paper})",
    "paper.diff_patch": "{patch} px 패치 (논문: {paper})",
    "paper.diff_hybrid": ("픽셀 패치의 선형 사영 대신 CNN 스템 (stem, {stem})이 스트라이드 {stride} px의 특징 맵에서 "
                          "토큰을 만듦 (논문 3.1절 (Sec. 3.1)과 같은 하이브리드 (hybrid))"),
    "paper.diff_no_head": "분류 헤드 없음 (출력이 특징 벡터인 백본 (backbone); 논문의 모델은 MLP 헤드로 끝남)",
    "paper.diff_self_supervised": ("논문의 레이블 있는 이미지에 대한 지도 사전 학습 대신 자기 지도 사전 학습 "
                                   "(self-supervised pre-training; {method}, 레이블 없음)"),
    "paper.diff_untrained": ("무작위의 학습되지 않은 가중치: 논문의 발견은 학습된 모델에 관한 것이라 여기서는 나타나지 "
                             "않을 것입니다"),
    "paper.matches": "{label}은(는) 크기, 헤드, 학습 방식에서 논문의 {paper_model}과(와) 같습니다.",
    "paper.differs": "불러온 모델 {label}은(는) 논문의 {paper_model}과(와) 다릅니다: {notes}.",
    "paper.not_ours": "논문이 보고한 수치 ({source})로, 여기서 계산한 것이 아니며 {label}의 수치도 아닙니다.",
    "paper.source_table2": "표 2 (Table 2), arXiv:2010.11929v2 (4.2절)",
    "paper.source_table6": "표 6 (Table 6, 부록 C), 그림 5 (Fig. 5)의 점들, arXiv:2010.11929v2",
    "paper.reported_not_computed": "논문이 보고한 수치, 여기서 계산하지 않음",
    "paper.reported_not_computed_for": "논문이 보고한 수치, {label}에 대해 계산하지 않음",
    "paper.accuracy": "정확도 (%)",
    "paper.table2_section": "표 2 (Table 2) — 최신 기법 (state of the art)과의 비교 (논문의 수치)",
    "paper.table2_caption": ("논문의 표 2 (Table 2) 캡션 (번역): 널리 쓰이는 이미지 분류 벤치마크에서 최신 기법과의 "
                             "비교. 정확도 (%)의 평균과 표준편차는 세 번의 미세 조정 (fine-tuning) 실행에 대한 "
                             "평균이며, 사전 학습 비용은 TPUv3-코어-일 (TPUv3-core-days)입니다."),
    "paper.table2_columns": ("열: JFT-300M으로 사전 학습한 ViT-H/14와 ViT-L/16, ImageNet-21k로 사전 학습한 ViT-L/16, "
                             "BiT-L (ResNet152x4), Noisy Student (EfficientNet-L2)."),
    "paper.table2_footnote": "*논문의 각주 (번역): Touvron 외 (2020)가 보고한, 약간 개선된 88.5% 결과.",
    "paper.table2_chart_section": "표 2 (Table 2)를 그래프로 (논문의 수치)",
    "paper.table2_chart_title": "논문의 표 2: 최신 기법과의 비교",
    "paper.table2_chart_caption": "표 2의 정확도 행; 오차 막대는 논문의 표준편차입니다.",
    "paper.fig5_section": "그림 5 (Fig. 5) — BiT 대 ViT 대 하이브리드: 사전 학습 계산량에 따른 성능 (논문의 수치)",
    "paper.fig5_title": "논문의 그림 5 (표 6): JFT-300M 사전 학습 계산량에 따른 정확도",
    "paper.fig5_caption": ("논문의 그림 5 (Fig. 5) 캡션 (번역): 비전 트랜스포머 (Vision Transformer), ResNet (BiT), "
                           "하이브리드 (hybrid)의 사전 학습 계산량 대비 성능. 논문에 따르면 ViT는 같은 성능 (데이터셋 5개 "
                           "평균)에 이르는 데 계산량이 약 2–4배 적게 들고, 하이브리드는 작은 계산 예산에서 ViT보다 약간 "
                           "낫지만 큰 모델에서는 그 차이가 사라지며, ViT는 시도한 범위 안에서 포화되지 않는 것으로 "
                           "보입니다."),
    "paper.fig5_points": ("점들은 논문의 표 6 (Table 6, 아래)입니다: JFT-300M으로 사전 학습한 ResNet (BiT) 7개, ViT "
                          "6개, R50+ViT 하이브리드 5개; 메뉴로 데이터셋을 바꿉니다."),
    "paper.fig5_point": "{model} ({epochs} 에폭)",
    "paper.fig5_accuracy": "{dataset} 전이 정확도 (%)",
    "paper.fig5_compute": "전체 사전 학습 계산량 (exaFLOPs, 로그 눈금)",
    "paper.family_hybrid": "하이브리드",
    "paper.table6_section": "표 6 (Table 6) — 모델 규모 실험 (논문의 수치)",
    "paper.table6_caption": ("논문의 표 6 (Table 6) 캡션 (번역): 모델 규모 실험의 자세한 결과 (그림 5의 점들). JFT-300M "
                             "사전 학습 후의 전이 정확도 (%)와 사전 학습 계산량 (exaFLOPs)."),
    "paper.report_title": "{label}에 대한 ViT 논문의 그림",
    "paper.report_subtitle": "{name} · 가중치: {source} · 입력 {h} × {w} px · 이미지: {images}",
    "paper.report_footer": "논문: {citation}. 논문이 보고한 수치 외의 그림은 vitviz가 위 모델로 계산한 것입니다.",
}
